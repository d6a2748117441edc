"""Back office: accounts, operations (with "retry now"), webhook endpoints (enable and
disable) and the demo PBX's accounts."""

from django.contrib import admin, messages
from django.utils import timezone

from .models import Account, DemoPbxAccount, Operation, WebhookEndpoint
from .services import disable_endpoint, enable_endpoint, retry_now


class ReadOnly(admin.ModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def warn_disabled_endpoints(request) -> None:
    for endpoint in WebhookEndpoint.objects.filter(disabled_at__isnull=False):
        messages.warning(
            request,
            f"Provisioning endpoint {endpoint.url} is disabled since "
            f"{endpoint.disabled_at:%Y-%m-%d %H:%M} ({endpoint.disabled_reason}): "
            "operations wait until it is enabled again.",
        )


@admin.register(Account)
class AccountAdmin(ReadOnly):
    list_display = ["customer_id", "name", "subscription_id", "status", "updated_at"]
    list_filter = ["status"]
    search_fields = ["name", "=customer_id"]


@admin.register(Operation)
class OperationAdmin(ReadOnly):
    list_display = [
        "id",
        "kind",
        "account",
        "status",
        "attempts",
        "last_http_status",
        "short_answer",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["=id", "=event_id", "account__name", "=account__customer_id"]
    list_select_related = ["account"]
    actions = ["retry_now_action"]

    @admin.display(description="answer")
    def short_answer(self, operation):
        text = operation.last_error or operation.last_answer
        return text[:80] + ("…" if len(text) > 80 else "")

    @admin.action(description="Retry now", permissions=["change"])
    def retry_now_action(self, request, queryset):
        count = retry_now(queryset, at=timezone.now())
        self.message_user(request, f"{count} operations will be retried now.", messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        warn_disabled_endpoints(request)
        return super().changelist_view(request, extra_context)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnly):
    list_display = ["url", "enabled", "disabled_at", "disabled_reason", "created_at"]
    actions = ["enable_action", "disable_action"]

    @admin.display(boolean=True, description="enabled")
    def enabled(self, endpoint):
        return endpoint.disabled_at is None

    @admin.action(description="Enable (waiting operations are sent)", permissions=["change"])
    def enable_action(self, request, queryset):
        for endpoint in queryset:
            enable_endpoint(endpoint, at=timezone.now())
        self.message_user(request, f"{queryset.count()} endpoints enabled.", messages.SUCCESS)

    @admin.action(description="Disable (operations wait)", permissions=["change"])
    def disable_action(self, request, queryset):
        for endpoint in queryset:
            disable_endpoint(endpoint, reason="disabled by staff", at=timezone.now())
        self.message_user(request, f"{queryset.count()} endpoints disabled.", messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        warn_disabled_endpoints(request)
        return super().changelist_view(request, extra_context)


@admin.register(DemoPbxAccount)
class DemoPbxAccountAdmin(ReadOnly):
    list_display = ["sip_login", "name", "plan", "extensions", "status", "updated_at"]
    list_filter = ["status", "plan"]
    search_fields = ["sip_login", "name", "=customer_id"]
