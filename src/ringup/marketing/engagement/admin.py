"""Back office: banners with their counts, follow-up tasks with the manager's queue, and
each customer's activity timeline."""

from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from ringup.customers.models import Customer

from . import selectors
from .models import Banner, BannerDay, FollowUpTask
from .services import tasks as task_services
from .services.tasks import TaskRefused

SNOOZE_DAYS = 7


class BannerDayInline(admin.TabularInline):
    model = BannerDay
    extra = 0
    can_delete = False
    fields = ["day", "impressions", "clicks"]
    readonly_fields = fields
    max_num = 0
    ordering = ["-day"]


@admin.register(Banner)
class BannerAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "active",
        "segment",
        "language",
        "starts_at",
        "ends_at",
        "weight",
        "impressions",
        "clicks",
    ]
    list_filter = ["active", "language", "link", "segment"]
    search_fields = ["title", "text", "target"]
    inlines = [BannerDayInline]
    fieldsets = [
        (None, {"fields": ["title", "text", "label", "image", "image_static"]}),
        ("Link", {"fields": ["link", "target", "query"]}),
        (
            "Who and when",
            {"fields": ["segment", "language", "starts_at", "ends_at", "weight", "active"]},
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("segment")
            .annotate(impressions_total=Sum("days__impressions"), clicks_total=Sum("days__clicks"))
        )

    @admin.display(description="impressions", ordering="impressions_total")
    def impressions(self, obj):
        return obj.impressions_total or 0

    @admin.display(description="clicks", ordering="clicks_total")
    def clicks(self, obj):
        return obj.clicks_total or 0


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(admin.ModelAdmin):
    list_display = ["title", "customer", "reason", "assignee", "due_on", "status", "done_at"]
    list_filter = ["status", "reason", ("assignee", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "customer__name", "customer__email", "rule_key"]
    list_select_related = ["customer", "assignee"]
    raw_id_fields = ["customer"]
    date_hierarchy = "due_on"
    # Status changes go through the actions (done, not now, snooze), which keep the dates.
    readonly_fields = [
        "status",
        "snoozed_until",
        "done_at",
        "outcome",
        "rule_key",
        "created_by",
        "created_at",
    ]
    actions = ["done_action", "not_now_action", "snooze_action", "assign_to_me_action"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by, obj.created_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("queue/", view(self.queue_view), name="engagement_queue"),
            path(
                "queue/<int:pk>/<str:action>/",
                view(self.queue_action),
                name="engagement_queue_action",
            ),
            path(
                "timeline/<int:customer_id>/",
                view(self.timeline_view),
                name="engagement_timeline",
            ),
            *super().get_urls(),
        ]

    # The manager's queue ------------------------------------------------------------

    def queue_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        context = {
            **self.admin_site.each_context(request),
            "title": "My follow-ups",
            "opts": self.model._meta,
            "tasks": selectors.queue(request.user.pk, today=today),
            "today": today,
            "snooze_days": SNOOZE_DAYS,
        }
        return TemplateResponse(request, "admin/engagement/queue.html", context)

    def queue_action(self, request, pk: int, action: str):
        return _queue_action(self, request, pk, action)

    # Bulk actions of the task list --------------------------------------------------

    def _each(self, request, queryset, change, done: str):
        count = 0
        for task in queryset:
            try:
                change(task)
                count += 1
            except TaskRefused as refused:
                self.message_user(request, f"{task}: {refused}", messages.WARNING)
        self.message_user(request, f"{count} tasks {done}.", messages.SUCCESS)

    @admin.action(description="Mark done", permissions=["change"])
    def done_action(self, request, queryset):
        at = timezone.now()
        self._each(
            request,
            queryset,
            lambda t: task_services.complete_task(t, at=at, by=request.user),
            "done",
        )

    @admin.action(description="No, not now: ask again in 3 and 6 months", permissions=["change"])
    def not_now_action(self, request, queryset):
        at = timezone.now()
        self._each(
            request,
            queryset,
            lambda t: task_services.complete_task(
                t, at=at, outcome=FollowUpTask.Outcome.NOT_NOW, by=request.user
            ),
            "done; asked again in 3 and 6 months",
        )

    @admin.action(description=f"Snooze {SNOOZE_DAYS} days", permissions=["change"])
    def snooze_action(self, request, queryset):
        at = timezone.now()
        until = timezone.localdate(at) + timedelta(days=SNOOZE_DAYS)
        self._each(
            request, queryset, lambda t: task_services.snooze_task(t, until=until, at=at), "snoozed"
        )

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me_action(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda t: task_services.assign_task(t, assignee_id=request.user.pk),
            "assigned to you",
        )

    # A customer's timeline ----------------------------------------------------------

    def timeline_view(self, request, customer_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        customer = get_object_or_404(Customer, pk=customer_id)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Activity of {customer}",
            "opts": self.model._meta,
            "customer": customer,
            "entries": selectors.timeline(customer.pk, limit=200),
            "open_tasks": selectors.tasks(customer_id=customer.pk, status=FollowUpTask.Status.OPEN),
        }
        return TemplateResponse(request, "admin/engagement/timeline.html", context)


def _queue_action(model_admin, request, pk: int, action: str):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    task = selectors.get_task(pk)
    if task is None:
        raise Http404("no such task")
    at = timezone.now()
    try:
        if action == "done":
            task_services.complete_task(task, at=at, by=request.user)
        elif action == "not_now":
            task_services.complete_task(
                task, at=at, outcome=FollowUpTask.Outcome.NOT_NOW, by=request.user
            )
        elif action == "snooze":
            until = timezone.localdate(at) + timedelta(days=SNOOZE_DAYS)
            task_services.snooze_task(task, until=until, at=at)
        elif action == "take":
            task_services.assign_task(task, assignee_id=request.user.pk)
        else:
            raise Http404("no such action")
    except TaskRefused as refused:
        model_admin.message_user(request, f"{task}: {refused}", messages.WARNING)
    return HttpResponseRedirect(reverse("admin:engagement_queue"))
