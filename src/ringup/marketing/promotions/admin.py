"""Back office for promotions: promotions with their usage counts, promo codes (bulk
generation of unique codes), redemptions (read-only: a redemption is undone by a
credit note on the invoice, never by deleting it)."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.utils import timezone

from .models import PendingCode, PromoCode, Promotion, Redemption
from .selectors import promotions_with_counts
from .services import PromotionRefused, generate_codes


class CodeInline(admin.TabularInline):
    model = PromoCode
    extra = 0
    fields = ["code", "max_uses", "used", "active", "created_at"]
    readonly_fields = ["used"]
    show_change_link = True


class GenerateForm(forms.Form):
    count = forms.IntegerField(min_value=1, max_value=100_000, initial=100)
    prefix = forms.CharField(max_length=20, required=False)
    length = forms.IntegerField(min_value=4, max_value=32, initial=8)
    max_uses = forms.IntegerField(
        min_value=1, required=False, initial=1, help_text="Empty: unlimited uses per code."
    )


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "benefit",
        "value",
        "duration",
        "automatic",
        "active",
        "exclusive",
        "priority",
        "codes_count",
        "redeemed",
        "max_redemptions",
    ]
    list_filter = ["active", "benefit", "automatic", "exclusive"]
    search_fields = ["name", "codes__code"]
    filter_horizontal = ["plans", "options"]
    readonly_fields = ["redeemed"]
    inlines = [CodeInline]
    actions = ["generate_codes_action"]
    fieldsets = [
        (None, {"fields": ["name", "description", "active", "created_at"]}),
        ("Benefit", {"fields": ["benefit", "value", "duration", "periods"]}),
        (
            "Conditions",
            {
                "fields": [
                    "first_purchase_only",
                    "plans",
                    "options",
                    "segment",
                    "annual_only",
                    "starts_at",
                    "ends_at",
                    "max_redemptions",
                    "redeemed",
                    "per_customer_limit",
                ]
            },
        ),
        ("Automatic", {"fields": ["automatic", "min_revenue", "revenue_months", "min_months"]}),
        ("Stacking", {"fields": ["exclusive", "priority"]}),
    ]

    def get_queryset(self, request):
        return promotions_with_counts()

    @admin.display(description="codes", ordering="code_count")
    def codes_count(self, obj):
        return obj.code_count

    def get_changeform_initial_data(self, request):
        return {"created_at": timezone.now()}

    @admin.action(description="Generate unique promo codes")
    def generate_codes_action(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Pick one promotion.", messages.ERROR)
            return None
        promotion = queryset.get()
        form = GenerateForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                codes = generate_codes(
                    promotion,
                    data["count"],
                    at=timezone.now(),
                    prefix=data["prefix"],
                    length=data["length"],
                    max_uses=data["max_uses"],
                )
            except PromotionRefused as error:
                self.message_user(request, str(error), messages.ERROR)
                return None
            self.message_user(request, f"{len(codes)} codes created for {promotion}.")
            return None
        return render(
            request,
            "promotions/generate_codes.html",
            {**self.admin_site.each_context(request), "form": form, "promotion": promotion},
        )


@admin.register(PromoCode)
class PromoCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "promotion", "max_uses", "used", "active", "created_at"]
    list_filter = ["active", "promotion"]
    search_fields = ["code"]
    readonly_fields = ["used"]


@admin.register(Redemption)
class RedemptionAdmin(admin.ModelAdmin):
    list_display = ["at", "promotion", "code", "customer", "subscription", "discount"]
    list_filter = ["promotion"]
    search_fields = ["code__code", "customer__name", "customer__email"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PendingCode)
class PendingCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "email", "at", "redemption", "outcome"]
    search_fields = ["code", "email"]
    readonly_fields = ["signup_id", "email", "code", "at", "redemption", "outcome"]

    def has_add_permission(self, request):
        return False
