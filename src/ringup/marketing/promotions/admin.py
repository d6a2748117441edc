"""Back office for promotions: promotions with their usage counts, promo codes (bulk
generation of unique codes) and the lift page of their control group, redemptions
(read-only: a redemption is undone by a credit note on the invoice, never by deleting
it) and assignments to the control group (read-only)."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from .models import Assignment, PendingCode, PromoCode, Promotion, Redemption
from .selectors import lift_report, promotions_with_counts
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
        "holdout_percent",
    ]
    list_filter = ["active", "benefit", "automatic", "exclusive"]
    search_fields = ["name", "codes__code"]
    filter_horizontal = ["plans", "options"]
    readonly_fields = ["redeemed", "lift_link"]
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
        (
            "Control group and lift",
            {
                "fields": [
                    "holdout_percent",
                    "conversion_kind",
                    "conversion_changes",
                    "conversion_window_days",
                    "lift_link",
                ]
            },
        ),
    ]

    def get_urls(self):
        return [
            path(
                "<int:pk>/lift/",
                self.admin_site.admin_view(self.lift_view),
                name="promotions_promotion_lift",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="lift report")
    def lift_link(self, obj):
        if obj.pk is None:
            return "—"
        url = reverse("admin:promotions_promotion_lift", args=[obj.pk])
        return format_html('<a href="{}">Treated against held out</a>', url)

    def lift_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        promotion = get_object_or_404(Promotion, pk=pk)
        report = lift_report(promotion)
        return render(
            request,
            "admin/promotions/lift.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Lift: {promotion}",
                "promotion": promotion,
                "report": report,
                "rows": [
                    _group_row("Treated", report["treated"]),
                    _group_row("Held out (control group)", report["held_out"]),
                ],
                "conversion": _percentages(report["conversion_lift"]),
                "opts": self.model._meta,
            },
        )

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


def _group_row(name: str, group: dict) -> dict:
    customers = group["customers"]
    revenue = Decimal(group["revenue"])
    return {
        "name": name,
        "customers": customers,
        "converted": group["converted"],
        "rate": f"{group['converted'] / customers:.1%}" if customers else "—",
        "revenue": revenue,
        "per_customer": (revenue / customers).quantize(Decimal("0.01")) if customers else "—",
    }


def _percentages(interval: dict | None) -> dict | None:
    if interval is None:
        return None
    return {key: f"{value:+.1%}" for key, value in interval.items()}


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


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["at", "promotion", "customer", "group"]
    list_filter = ["promotion", "group"]
    search_fields = ["customer__name", "customer__email"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
