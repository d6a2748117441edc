"""The customer portal's own data: help articles and each customer's e-mail choices."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ringup.customers.models import Customer


class Language(models.TextChoices):
    EN = "en", "English"
    RU = "ru", "Русский"


class HelpArticle(models.Model):
    """A configuration guide or an FAQ answer shown in the portal.

    The body is plain text: a blank line starts a new paragraph, other line breaks are
    spaces. Nothing in it is read as
    markup, so an article can never carry a script into the portal.
    """

    class Category(models.TextChoices):
        GUIDE = "guide", _("Configuration guide")
        FAQ = "faq", _("FAQ")

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN)
    category = models.CharField(max_length=10, choices=Category.choices, default=Category.GUIDE)
    summary = models.CharField(max_length=300, blank=True, help_text="One line for the list.")
    body = models.TextField(help_text="Plain text; separate paragraphs with a blank line.")
    published = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0, help_text="Lower comes first.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "order", "title"]
        constraints = [
            models.UniqueConstraint(fields=["language", "slug"], name="portal_article_slug")
        ]

    def __str__(self):
        return f"{self.title} ({self.language})"

    @property
    def paragraphs(self) -> list[str]:
        """The body's paragraphs; line breaks inside a paragraph are spaces."""
        text = self.body.replace("\r\n", "\n")
        return [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]


class NotificationSettings(models.Model):
    """Which e-mails a customer wants. Invoices and trial reminders are on until the
    customer turns them off; product news only once they ask for it."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="notification_settings"
    )
    invoices = models.BooleanField(default=True, help_text="A new invoice is issued.")
    trial_reminders = models.BooleanField(
        default=True, help_text="The trial ends soon, or has ended."
    )
    product_news = models.BooleanField(default=False, help_text="New features and offers.")
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "notification settings"

    def __str__(self):
        return f"E-mail choices of {self.customer}"
