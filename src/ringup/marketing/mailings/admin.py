"""Back office: templates (preview, test send), mailings (activate, pause, lift), runs with
counts, recipients, suppressions (bounces entered by hand) and consent."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, render
from django.template import TemplateSyntaxError
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from ringup.customers.models import Customer
from ringup.marketing import outcomes

from . import rendering, selectors, services
from .models import Click, Consent, Mailing, Recipient, Run, Suppression, Template, TemplateVariant


class VariantForm(forms.ModelForm):
    """Refuses a subject, HTML or text that does not parse as a template, so an error
    shows here rather than as failed recipients."""

    class Meta:
        model = TemplateVariant
        fields = ["language", "subject", "html", "text"]

    def clean(self):
        cleaned = super().clean()
        for name in ("subject", "html", "text"):
            try:
                rendering.check_source(cleaned.get(name) or "")
            except TemplateSyntaxError as error:
                self.add_error(name, str(error))
        return cleaned


class VariantInline(admin.StackedInline):
    model = TemplateVariant
    form = VariantForm
    extra = 1


class PreviewForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.all(), widget=forms.NumberInput)
    send_to = forms.EmailField(required=False, help_text="Also send it as a test to this address.")


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "default_language", "languages", "preview_link"]
    inlines = [VariantInline]

    @admin.display(description="languages")
    def languages(self, obj):
        return ", ".join(obj.variants.values_list("language", flat=True))

    @admin.display(description="preview")
    def preview_link(self, obj):
        return format_html(
            '<a href="{}">Preview / test send</a>',
            reverse("admin:mailings_template_preview", args=[obj.pk]),
        )

    def get_urls(self):
        own = [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="mailings_template_preview",
            )
        ]
        return own + super().get_urls()

    def preview_view(self, request, pk):
        template = get_object_or_404(Template, pk=pk)
        form = PreviewForm(request.POST or request.GET or None)
        rendered = None
        if form.is_bound and form.is_valid():
            rendered = services.preview(template, form.cleaned_data["customer"])
            if request.method == "POST" and form.cleaned_data["send_to"]:
                services.send_test(
                    template, form.cleaned_data["customer"], form.cleaned_data["send_to"]
                )
                self.message_user(
                    request, f"Test sent to {form.cleaned_data['send_to']}.", messages.SUCCESS
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview: {template}",
            "template_obj": template,
            "form": form,
            "rendered": rendered,
            "opts": self.model._meta,
        }
        return render(request, "admin/mailings/preview.html", context)


class RunInline(admin.TabularInline):
    model = Run
    extra = 0
    can_delete = False
    fields = ["scheduled_for", "status", "counts"]
    readonly_fields = fields

    @admin.display(description="sent · failed · suppressed · held out · pending · clicks")
    def counts(self, obj):
        c = selectors.run_counts(obj)
        return (
            f"{c['sent']} · {c['failed']} · {c['suppressed']} · {c['held_out']} · "
            f"{c['pending'] + c['sending']} · {c['clicks']}"
        )

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Mailing)
class MailingAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "status", "template", "segment", "holdout_percent", "sent"]
    list_filter = ["kind", "status"]
    search_fields = ["name"]
    inlines = [RunInline]
    actions = ["activate_action", "pause_action"]
    readonly_fields = ["status", "active_since", "lift"]

    @admin.display(description="sent")
    def sent(self, obj):
        return selectors.sent_count(obj)

    @admin.display(description="lift (treated − held out, 95 % interval)")
    def lift(self, obj):
        if obj.pk is None:
            return "—"
        return outcomes.describe(selectors.lift_report(obj))

    @admin.action(description="Activate / resume")
    def activate_action(self, request, queryset):
        for mailing in queryset:
            try:
                services.activate(mailing, at=timezone.now())
            except services.MailingError as error:
                self.message_user(request, f"{mailing}: {error}", messages.ERROR)

    @admin.action(description="Pause")
    def pause_action(self, request, queryset):
        for mailing in queryset:
            services.pause(mailing)


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ["email", "run", "status", "due_at", "sent_at", "attempts", "opened_at"]
    list_filter = ["status"]
    search_fields = ["email", "=run__id", "=customer__id"]
    list_select_related = ["run__mailing"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Recipient._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Add a row here to record a bounce or a complaint by hand."""

    list_display = ["address", "reason", "at", "note"]
    list_filter = ["reason"]
    search_fields = ["address"]

    def save_model(self, request, obj, form, change):
        obj.address = obj.address.strip().lower()
        super().save_model(request, obj, form, change)


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ["customer", "product_news", "updated_at"]
    list_filter = ["product_news"]
    raw_id_fields = ["customer"]


@admin.register(Click)
class ClickAdmin(admin.ModelAdmin):
    list_display = ["recipient", "url", "at"]
    search_fields = ["url"]

    def has_add_permission(self, request):
        return False
