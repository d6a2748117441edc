from django.contrib import admin

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
    list_filter = ["tier", "source", "country", "language"]
    search_fields = ["name", "email", "phone", "account"]
    date_hierarchy = "registered_at"
    inlines = [ContactInline]
