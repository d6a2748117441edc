"""Back office: the outbox's events and their deliveries, with a "retry now" action."""

from django.contrib import admin, messages
from django.utils import timezone

from .models import Delivery, Event
from .services import retry_now


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["consumer", "status", "attempts", "next_attempt_at", "done_at", "last_error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "at", "customer_id", "subscription_id", "key", "created_at"]
    list_filter = ["kind"]
    search_fields = ["kind", "key", "=customer_id", "=subscription_id"]
    date_hierarchy = "at"
    inlines = [DeliveryInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Event._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "consumer", "status", "attempts", "next_attempt_at", "done_at"]
    list_filter = ["status", "consumer"]
    search_fields = ["=event__id", "event__kind", "last_error"]
    list_select_related = ["event"]
    actions = ["retry_now_action"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Retry now", permissions=["change"])
    def retry_now_action(self, request, queryset):
        count = retry_now(queryset, at=timezone.now())
        self.message_user(request, f"{count} deliveries will be retried now.", messages.SUCCESS)
