from django.contrib import admin

from .models import Subscription, SubscriptionChange, SubscriptionOption


class SubscriptionOptionInline(admin.TabularInline):
    model = SubscriptionOption
    extra = 0


class SubscriptionChangeInline(admin.TabularInline):
    model = SubscriptionChange
    extra = 0
    readonly_fields = [
        "kind",
        "at",
        "from_plan",
        "to_plan",
        "from_employees",
        "to_employees",
        "option",
    ]
    can_delete = False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["customer", "plan", "status", "period", "employees", "started_at", "ended_at"]
    list_filter = ["status", "plan", "period"]
    search_fields = ["customer__name", "customer__email"]
    raw_id_fields = ["customer"]
    inlines = [SubscriptionOptionInline, SubscriptionChangeInline]
