"""Back office for API keys: create one (its token is shown once), see which are in use,
revoke. The secret cannot be edited: a new secret is a new key."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.utils import timezone

from . import services
from .models import ApiKey

CHANGE_FIELDS = [
    "name",
    "token_start",
    "owner",
    "state",
    "created_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "token_start",
        "owner",
        "state",
        "created_at",
        "last_used_at",
        "expires_at",
    ]
    list_select_related = ["owner"]
    search_fields = ["name", "prefix", "owner__username"]
    actions = ["revoke"]
    readonly_fields = ["token_start", "state", "created_at", "last_used_at", "revoked_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "owner", "expires_at"]
        return CHANGE_FIELDS

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # Who the key acts as and until when are fixed: a different grant is a new key.
        return [*self.readonly_fields, "owner", "expires_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True, is_staff=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # Revoked keys stay listed, with when they were last used.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token = services.issue(obj, at=timezone.now())
        self.message_user(
            request,
            f"The token of “{obj.name}”: {token}. Copy it now: it is not stored and is "
            "not shown again.",
            messages.WARNING,
        )

    @admin.display(description="Key")
    def token_start(self, key: ApiKey) -> str:
        return f"rk_{key.prefix}_…"

    @admin.display(description="State")
    def state(self, key: ApiKey) -> str:
        now = timezone.now()
        if key.revoked_at is not None:
            return "revoked"
        if key.expires_at is not None and key.expires_at <= now:
            return "expired"
        if not (key.owner.is_active and key.owner.is_staff):
            return "owner not active staff"
        return "active"

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request, queryset):
        now = timezone.now()
        revoked = sum(services.revoke(key, at=now) for key in queryset)
        self.message_user(request, f"{revoked} API key(s) revoked.", messages.SUCCESS)
