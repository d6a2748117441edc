"""Back office for segments: a condition builder, the live count, a sample of members
and the CSV export."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone

from ringup.catalog.models import Option, Plan

from .conditions import FIELDS, OPS, ConditionError, describe, validate
from .export import csv_response
from .models import Segment
from .selectors import SAMPLE_SIZE, count, sample


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "description", "conditions"]
        widgets = {"conditions": forms.Textarea(attrs={"rows": 16, "cols": 80})}

    def clean_conditions(self):
        conditions = self.cleaned_data["conditions"]
        try:
            validate(conditions)
        except ConditionError as exc:
            raise ValidationError([f"{p}: {m}" for p, m in exc.errors.items()]) from None
        return conditions


def builder_spec() -> dict:
    """What the condition builder offers: each field's label, operators and value input,
    with the catalog's plan and option codes."""
    codes = {
        "plans": list(
            Plan.objects.order_by("segment", "sort_order").values_list("code", flat=True)
        ),
        "options": list(Option.objects.order_by("sort_order").values_list("code", flat=True)),
    }
    return {
        "ops": OPS,
        "fields": {
            name: {
                "label": field.label,
                "ops": list(field.ops),
                "kind": field.kind,
                "choices": list(field.choices) or codes.get(field.kind, []),
            }
            for name, field in FIELDS.items()
        },
    }


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    form = SegmentForm
    list_display = ["name", "in_words", "updated_at"]
    search_fields = ["name", "description"]
    actions = ["download_csv"]
    change_form_template = "segments/admin/change_form.html"
    fieldsets = [
        (None, {"fields": ["name", "description"]}),
        ("Conditions as JSON", {"classes": ["collapse"], "fields": ["conditions"]}),
    ]

    def get_urls(self):
        return [
            path(
                "<int:pk>/export.csv",
                self.admin_site.admin_view(self.export_csv),
                name="segments_segment_export",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Conditions")
    def in_words(self, segment):
        try:
            return describe(segment.conditions)
        except ConditionError as exc:
            return f"invalid: {exc}"

    def export_csv(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return csv_response(get_object_or_404(Segment, pk=pk), at=timezone.now())

    @admin.action(description="Download CSV of the members")
    def download_csv(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one segment.", messages.WARNING)
            return None
        return csv_response(queryset.get(), at=timezone.now())

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["builder_spec"] = builder_spec()
        context["preview_url"] = "/api/v1/segments/preview"
        if obj is not None and obj.pk:
            context.update(self._members_context(obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _members_context(self, segment) -> dict:
        at = timezone.now()
        try:
            in_words = describe(segment.conditions)
        except ConditionError as exc:
            return {"segment_errors": exc.errors}
        return {
            "segment_at": at,
            "segment_words": in_words,
            "segment_count": count(segment, at=at),
            "segment_sample": sample(segment, at=at),
            "sample_size": SAMPLE_SIZE,
            "export_url": reverse("admin:segments_segment_export", args=[segment.pk]),
        }
