"""Back office: carrier deck versions (import, what changed, margin impact with CSV),
the pricing owner's margin alerts, and the risk flags on customers."""

import csv

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from ringup.customers.models import Customer
from ringup.usage.services import configured_decks

from . import risk
from .forms import DeckImportForm
from .models import CarrierDeckVersion, CarrierRate, MarginAlert, MarginImpact, RiskFlag
from .services import WINDOWS, VersionRefused, compute_impact, import_version

CSV_SECTIONS = ("destinations", "plans", "customers")
CSV_COLUMNS = (
    "section",
    "prefix",
    "description",
    "plan",
    "customer_id",
    "calls",
    "minutes",
    "retail",
    "old_carrier",
    "new_carrier",
    "old_margin_percent",
    "new_margin_percent",
    "loss_per_month",
    "new_carrier_rate",
    "restoring_rate",
)


class CarrierRateInline(admin.TabularInline):
    model = CarrierRate
    extra = 0
    can_delete = False
    max_num = 0
    fields = [
        "prefix",
        "description",
        "rate",
        "connect_fee",
        "first_increment",
        "increment",
        "min_duration",
    ]
    readonly_fields = fields


def _days(request) -> int:
    try:
        days = int(request.GET.get("days") or request.POST.get("days") or WINDOWS[0])
    except ValueError:
        days = WINDOWS[0]
    return days if days in WINDOWS else WINDOWS[0]


@admin.register(CarrierDeckVersion)
class CarrierDeckVersionAdmin(admin.ModelAdmin):
    list_display = ["carrier", "effective_from", "prefixes", "imported_at", "imported_by", "impact"]
    list_filter = ["carrier"]
    readonly_fields = ["carrier", "effective_from", "imported_at", "imported_by", "file_name"]
    inlines = [CarrierRateInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(prefix_count=Count("rates"))

    @admin.display(description=_("prefixes"), ordering="prefix_count")
    def prefixes(self, obj):
        return obj.prefix_count

    @admin.display(description=_("margin impact"))
    def impact(self, obj):
        url = reverse("admin:margins_impact", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Margin impact"))

    def has_change_permission(self, request, obj=None):
        # Versions are history: a correction is a new version, never an edit.
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="margins_import"),
            path("<int:pk>/impact/", view(self.impact_view), name="margins_impact"),
            path("<int:pk>/impact.csv", view(self.impact_csv), name="margins_impact_csv"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:margins_import"))

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = DeckImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            at = timezone.now()
            try:
                version = import_version(
                    data["deck"].read(),
                    carrier=data["carrier"],
                    effective_from=data["effective_from"],
                    at=at,
                    by=request.user,
                    file_name=data["deck"].name,
                )
            except VersionRefused as refused:
                for field, message in refused.errors.items():
                    form.add_error(field if field in form.fields else "deck", message)
            else:
                compute_impact(version, days=data["days"], at=at, retail=configured_decks().retail)
                self.message_user(request, _("Imported %s.") % version, messages.SUCCESS)
                url = reverse("admin:margins_impact", args=[version.pk])
                return HttpResponseRedirect(f"{url}?days={data['days']}")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import a carrier deck version"),
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/margins/import.html", context)

    def impact_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = get_object_or_404(CarrierDeckVersion, pk=pk)
        days = _days(request)
        if request.method == "POST":
            compute_impact(version, days=days, at=timezone.now(), retail=configured_decks().retail)
            return HttpResponseRedirect(f"{request.path}?days={days}")
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET", "POST"])
        impact = MarginImpact.objects.filter(version=version, window_days=days).first()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Margin impact of %s") % version,
            "opts": self.model._meta,
            "version": version,
            "impact": impact,
            "days": days,
            "windows": WINDOWS,
            "customers": _customer_names(impact),
            "alert": MarginAlert.objects.filter(version=version).first(),
        }
        return TemplateResponse(request, "admin/margins/impact.html", context)

    def impact_csv(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = get_object_or_404(CarrierDeckVersion, pk=pk)
        days = _days(request)
        impact = get_object_or_404(MarginImpact, version=version, window_days=days)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"margin-impact-{version.carrier}-{version.effective_from}-{days}d.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        writer = csv.DictWriter(response, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for section in CSV_SECTIONS:
            for row in impact.findings.get(section, []):
                writer.writerow({"section": section, **row})
        return response


def _customer_names(impact: MarginImpact | None) -> dict[int, str]:
    if impact is None:
        return {}
    ids = [row["customer_id"] for row in impact.findings.get("customers", [])]
    return dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name"))


@admin.register(MarginAlert)
class MarginAlertAdmin(admin.ModelAdmin):
    list_display = ["title", "assignee", "status", "created_at", "mailed_to", "impact"]
    list_filter = ["status", ("assignee", admin.RelatedOnlyFieldListFilter)]
    readonly_fields = ["version", "title", "summary", "created_at", "mailed_to"]
    fields = ["version", "title", "summary", "assignee", "status", "created_at", "mailed_to"]
    actions = ["done_action"]

    def has_add_permission(self, request):
        return False  # alerts come from a version's impact only

    @admin.display(description=_("margin impact"))
    def impact(self, obj):
        url = reverse("admin:margins_impact", args=[obj.version_id])
        return format_html('<a href="{}">{}</a>', url, _("Margin impact"))

    @admin.action(description=_("Mark done"), permissions=["change"])
    def done_action(self, request, queryset):
        count = queryset.update(status=MarginAlert.Status.DONE)
        self.message_user(request, _("%d alerts done.") % count, messages.SUCCESS)


@admin.register(RiskFlag)
class RiskFlagAdmin(admin.ModelAdmin):
    list_display = ["customer", "code", "severity", "explanation", "computed_at"]
    list_filter = ["code", "severity"]
    search_fields = ["customer__name", "customer__email"]
    readonly_fields = ["customer", "code", "severity", "explanation", "figures", "computed_at"]
    change_list_template = "admin/margins/riskflag_change_list.html"

    def has_add_permission(self, request):
        return False  # flags are computed, never entered

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("board/", view(self.board_view), name="margins_risk"),
            *super().get_urls(),
        ]

    def board_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            computed = risk.compute_flags(at=timezone.now())
            self.message_user(
                request, _("Risk flags computed: %d flags.") % computed.flags, messages.SUCCESS
            )
            return HttpResponseRedirect(request.get_full_path())
        code = request.GET.get("flag", "")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Risk flags"),
            "opts": self.model._meta,
            "board": risk.board(code=code),
            "codes": risk.codes_in_use(),
            "code": code,
            "labels": risk.LABELS,
        }
        return TemplateResponse(request, "admin/margins/risk.html", context)
