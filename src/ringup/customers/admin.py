from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import Contact, Customer


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "tier",
        "employees",
        "email",
        "phone",
        "country",
        "source",
        "registered_at",
    ]
    list_filter = ["tier", "vertical", "source", "country", "language"]
    search_fields = ["name", "email", "phone", "account"]
    date_hierarchy = "registered_at"
    inlines = [ContactInline]
    readonly_fields = ["activity"]

    @admin.display(description="activity")
    def activity(self, obj):
        # The timeline lives in the engagement app's back office (above customers): linked
        # by URL name, not imported.
        if obj.pk is None:
            return "-"
        url = reverse("admin:engagement_timeline", args=[obj.pk])
        return format_html('<a href="{}">Timeline: events, mails, invoices, tasks</a>', url)
