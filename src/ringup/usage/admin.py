"""Imported CDR files and rated calls, read-only: they change only by importing."""

from django.contrib import admin

from .models import CdrFile, RatedCall


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
    ]
    list_filter = ["reason", "source", "description"]
    search_fields = ["cdr_id", "account", "dst"]
    list_select_related = ["customer"]
    date_hierarchy = "start"
