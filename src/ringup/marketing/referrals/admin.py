"""Back office of the referral program: its terms, customers' codes, referrals with their
status and reason, invitations, rewards and clawbacks. Rewards and clawbacks are
read-only: they are written by the program's rules, and their credits are billing's."""

from django.contrib import admin
from django.utils import timezone

from . import services
from .models import Clawback, Invitation, Referral, ReferralCode, ReferralProgram, Reward


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReferralProgram)
class ReferralProgramAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "is_active",
        "percentage",
        "months",
        "fixed_bonus",
        "invitations_needed",
        "invitation_bonus",
        "invitation_buy_bonus",
        "currency",
    ]

    def has_add_permission(self, request):
        return not ReferralProgram.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReferralCode)
class ReferralCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "customer", "created_at"]
    search_fields = ["code", "customer__name", "customer__email"]
    readonly_fields = ["code", "created_at"]
    autocomplete_fields = ["customer"]
    fields = ["customer", "code", "created_at"]

    def save_model(self, request, obj, form, change):
        # A code is generated, never typed: it stays free of look-alike characters.
        obj.code, obj.created_at = services.new_code(), timezone.now()
        super().save_model(request, obj, form, change)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ["at", "referrer", "email", "referred", "code", "status", "reason"]
    list_filter = ["status", "reason"]
    search_fields = ["code", "email", "referrer__name", "referrer__email"]
    date_hierarchy = "at"


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "referrer", "name", "email", "phone"]
    search_fields = ["name", "email", "phone", "referrer__name"]


class ClawbackInline(admin.TabularInline):
    model = Clawback
    extra = 0
    can_delete = False
    readonly_fields = ["credit_note_id", "amount", "from_credit", "carried", "settled", "at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Reward)
class RewardAdmin(ReadOnlyAdmin):
    list_display = ["at", "referrer", "kind", "amount", "credit", "invoice_id", "source_key"]
    list_filter = ["kind"]
    search_fields = ["source_key", "referrer__name"]
    inlines = [ClawbackInline]


@admin.register(Clawback)
class ClawbackAdmin(ReadOnlyAdmin):
    list_display = ["at", "reward", "credit_note_id", "amount", "from_credit", "carried", "settled"]
