"""Back office: the mail folder (newest first; open one to see its HTML and text)."""

from django.contrib import admin
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path

from . import mailfolder
from .models import MailMessage


@admin.register(MailMessage)
class MailFolderAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<str:name>/",
                self.admin_site.admin_view(self.message_view),
                name="notifications_mailmessage_message",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            "title": "Mail folder",
            "opts": self.model._meta,
            "messages_stored": mailfolder.messages(),
            "folder": mailfolder.folder(),
        }
        return TemplateResponse(request, "admin/notifications/mail_folder.html", context)

    def message_view(self, request, name):
        stored = mailfolder.message(name) if self.has_view_permission(request) else None
        if stored is None:
            raise Http404("No such message")
        context = {
            **self.admin_site.each_context(request),
            "title": stored.subject or name,
            "opts": self.model._meta,
            "stored": stored,
        }
        return TemplateResponse(request, "admin/notifications/mail_message.html", context)
