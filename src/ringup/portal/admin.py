from django.contrib import admin

from .models import HelpArticle, NotificationSettings


@admin.register(HelpArticle)
class HelpArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "language", "category", "published", "order", "updated_at"]
    list_filter = ["language", "category", "published"]
    list_editable = ["published", "order"]
    search_fields = ["title", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ["customer", "invoices", "trial_reminders", "product_news", "updated_at"]
    list_filter = ["invoices", "trial_reminders", "product_news"]
    search_fields = ["customer__name", "customer__email"]
    raw_id_fields = ["customer"]
