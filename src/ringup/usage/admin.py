"""Imported CDR files and rated calls, read-only: they change only by importing; the
customers' phone numbers, assigned and released."""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from . import numbers
from .models import CdrFile, PhoneNumber, RatedCall


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CdrFile)
class CdrFileAdmin(ReadOnly):
    list_display = ["path", "source", "status", "calls", "imported", "duplicates", "unrated"]
    list_filter = ["status", "source"]
    search_fields = ["path", "sha256"]
    date_hierarchy = "claimed_at"


@admin.register(RatedCall)
class RatedCallAdmin(ReadOnly):
    list_display = [
        "cdr_id",
        "source",
        "customer",
        "account",
        "dst",
        "start",
        "billed_seconds",
        "description",
        "cost",
        "margin",
        "reason",
        "did",
    ]
    list_filter = ["reason", "source", "description"]
    search_fields = ["cdr_id", "account", "dst", "did"]
    list_select_related = ["customer"]
    date_hierarchy = "start"


class PhoneNumberForm(forms.ModelForm):
    # As typed ("+7 (495) 111-22-33"), longer than the E.164 digits it is stored as.
    number = forms.CharField(max_length=40, help_text="Any written form; stored as E.164.")

    class Meta:
        model = PhoneNumber
        fields = ["customer", "number", "assigned_at"]

    def clean_number(self):
        try:
            return numbers.e164(self.cleaned_data["number"])
        except numbers.NumberError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self):
        cleaned = super().clean()
        number = cleaned.get("number")
        held = PhoneNumber.objects.filter(number=number, released_at=None).first()
        if held and held.customer_id != getattr(cleaned.get("customer"), "pk", None):
            self.add_error("number", f"+{number} is held by {held.customer}: release it first")
        return cleaned


class HeldFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "held"

    def lookups(self, request, model_admin):
        return [("yes", "Held"), ("no", "Released")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(released_at__isnull=self.value() == "yes")
        return queryset


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    """Numbers are assigned here or by ``ringup import-numbers``; a holding is ended by
    releasing it (kept for the calls it received), never edited."""

    form = PhoneNumberForm
    list_display = ["__str__", "customer", "assigned_at", "released_at"]
    list_filter = [HeldFilter]
    search_fields = ["number", "customer__name", "customer__account"]
    autocomplete_fields = ["customer"]
    list_select_related = ["customer"]
    actions = ["release"]

    def has_change_permission(self, request, obj=None):
        return obj is None

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Through the service: insert-or-nothing under the held-once constraint.
        held = numbers.assign_number(obj.customer, obj.number, at=obj.assigned_at)
        obj.pk, obj.number = held.pk, held.number

    @admin.action(description="Release the selected numbers now")
    def release(self, request, queryset):
        at = timezone.now()
        released = 0
        for held in queryset.filter(released_at=None):
            try:
                numbers.release_number(held.number, at=at)
            except numbers.NumberError as error:
                self.message_user(request, str(error), messages.ERROR)
                continue
            released += 1
        self.message_user(request, f"{released} number(s) released.", messages.SUCCESS)
