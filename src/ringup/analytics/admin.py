"""Back office: the revenue dashboard (its CSV downloads, the monthly report, the ARPU
levers, the sweet-spot report) and the list of recompute runs."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import include, path

from . import views
from .lever_views import lever_urls
from .models import Dashboard, MonthlyReport, RecomputeRun


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):
    """The dashboard is the proxy's change list: /admin/analytics/dashboard/."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("data/<slug:name>.csv", view(self.csv_view), name="analytics_dataset_csv"),
            path("report/<str:month>/", view(self.report_view), name="analytics_report"),
            path(
                "report/<str:month>/pdf/", view(self.report_pdf_view), name="analytics_report_pdf"
            ),
            path("levers/", include(lever_urls(self.admin_site))),
            path("sweet-spot/", view(self.sweet_spot_view), name="analytics_sweet_spot"),
            path("", view(self.changelist_view), name="analytics_dashboard"),
            # The name the admin index links a model's page by.
            path("", view(self.changelist_view), name="analytics_dashboard_changelist"),
        ]

    def _allowed(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied

    def changelist_view(self, request, extra_context=None):
        self._allowed(request)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta}
        return views.dashboard(request, context)

    def sweet_spot_view(self, request):
        self._allowed(request)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta}
        return views.sweet_spot(request, context)

    def csv_view(self, request, name):
        self._allowed(request)
        return views.dataset_csv(request, name)

    def report_view(self, request, month):
        self._allowed(request)
        return views.report_html(request, month)

    def report_pdf_view(self, request, month):
        self._allowed(request)
        return views.report_pdf(request, month)


@admin.register(RecomputeRun)
class RecomputeRunAdmin(admin.ModelAdmin):
    list_display = ["until", "status", "customers", "duration", "unpriced", "finished_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in RecomputeRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MonthlyReport)
class MonthlyReportAdmin(admin.ModelAdmin):
    list_display = ["month", "claimed_at", "sent_at", "run"]
    readonly_fields = ["month", "run", "claimed_at", "sent_at", "recipients"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
