"""Back office for the catalog: the product manager edits prices here."""

from django.conf import settings
from django.contrib import admin
from django.utils.html import format_html, format_html_join

from .models import NumberOffer, Option, Plan, Quote, RelatedProduct, TrafficPackage


class RelatedProductInline(admin.TabularInline):
    model = RelatedProduct
    fk_name = "plan"
    extra = 0
    fields = ["option", "related_plan", "pitch", "weight", "valid_from", "valid_until"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "segment",
        "currency",
        "monthly_fee",
        "per_employee",
        "max_manager_discount_percent",
        "is_public",
        "sort_order",
    ]
    list_filter = ["segment", "currency", "is_public"]
    list_editable = ["is_public", "sort_order"]
    search_fields = ["name", "code"]
    inlines = [RelatedProductInline]
    readonly_fields = ["embed_snippet", "buy_links"]
    fieldsets = [
        (None, {"fields": ["code", "name", "segment", "tagline", "description", "highlights"]}),
        (
            "Prices",
            {
                "fields": [
                    "currency",
                    "monthly_fee",
                    "per_employee",
                    "setup_fee",
                    "included_employees",
                    "min_employees",
                    "max_employees",
                    "included_numbers",
                    "annual_discount_percent",
                    "max_manager_discount_percent",
                    "trial_days",
                ]
            },
        ),
        ("Advisor and display", {"fields": ["features", "is_public", "sort_order"]}),
        ("Embed on your website", {"fields": ["embed_snippet", "buy_links"]}),
    ]

    @admin.display(description="Calculator snippet")
    def embed_snippet(self, plan):
        src = f"{settings.PUBLIC_URL}/pricing/embed/"
        if plan.pk:
            src += f"?plan={plan.code}"
        snippet = (
            f'<iframe src="{src}" title="Tariff calculator" width="100%" height="900" '
            'style="border:0;max-width:1100px" loading="lazy"></iframe>'
        )
        return format_html(
            "<p>Paste this into any page of your website to show the calculator with this "
            "plan selected:</p><textarea readonly rows=3 cols=100 "
            'onclick="this.select()">{}</textarea>',
            snippet,
        )

    @admin.display(description="Direct buy links")
    def buy_links(self, plan):
        if not plan.pk:
            return "Save the plan to get its links."
        base = f"{settings.PUBLIC_URL}/buy/{plan.code}/"
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td><input readonly size=70 value="{}" '
            'onclick="this.select()"></td></tr>',
            (("Monthly", f"{base}?period=monthly"), ("Annual", f"{base}?period=annual")),
        )
        return format_html(
            "<p>Each opens the purchase page of exactly this offer. Add "
            "<code>&amp;options=code1,code2</code>, <code>&amp;employees=12</code> or "
            "<code>&amp;promo=CODE</code> to sell a specific configuration.</p>"
            "<table>{}</table>",
            rows,
        )


@admin.register(Option)
class OptionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "currency",
        "monthly_fee",
        "setup_fee",
        "per_employee",
        "feature",
    ]
    list_filter = ["plans", "per_employee", "currency"]
    search_fields = ["name", "code"]
    filter_horizontal = ["plans"]


@admin.register(NumberOffer)
class NumberOfferAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "currency", "monthly_fee", "setup_fee"]
    list_filter = ["kind"]
    filter_horizontal = ["plans"]


@admin.register(TrafficPackage)
class TrafficPackageAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "minutes", "currency", "monthly_fee"]
    filter_horizontal = ["plans"]


@admin.register(RelatedProduct)
class RelatedProductAdmin(admin.ModelAdmin):
    list_display = ["plan", "option", "related_plan", "weight", "valid_from", "valid_until"]
    list_filter = ["plan"]


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = [
        "token",
        "plan",
        "customer_name",
        "period",
        "monthly_total",
        "one_time_total",
        "source",
        "manager",
        "created_at",
    ]
    list_filter = ["source", "plan", "period"]
    search_fields = ["token", "customer_name"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Quote._meta.fields]

    def has_add_permission(self, request):
        return False  # quotes are made by the calculator, the API or a manager's session
