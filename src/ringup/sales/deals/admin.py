"""Back office for deals: the pipeline, a new deal with its prospect, and the deal page
(stage, offer, bill analysis, TCO, deployment advice, risk flags, proposal links)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from ringup.engine.pricing import SelectionError

from . import forms, selectors, views
from .models import BillAnalysis, Deal, ProposalLink, Stage, StageChange
from .services import bills, proposals
from .services import deals as deal_services
from .services import tco as tco_services


class StageChangeInline(admin.TabularInline):
    model = StageChange
    extra = 0
    can_delete = False
    max_num = 0
    fields = ["at", "from_stage", "to_stage", "by", "note"]
    readonly_fields = fields


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "customer",
        "stage",
        "owner",
        "expected_mrr",
        "next_step_on",
        "stage_changed_at",
        "desk_link",
    ]
    list_filter = ["stage", "tier", ("owner", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "customer__name", "current_provider"]
    list_select_related = ["customer", "owner"]
    raw_id_fields = ["customer", "subscription"]
    # Stages change through the deal page's actions, which record and announce them.
    readonly_fields = [
        "stage",
        "lost_reason",
        "stage_changed_at",
        "closed_at",
        "subscription",
        "created_at",
    ]
    inlines = [StageChangeInline]
    change_list_template = "admin/deals/change_list.html"

    @admin.display(description=gettext_lazy("deal page"))
    def desk_link(self, deal):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:deals_desk", args=[deal.pk]),
            pgettext("link", "Open"),
        )

    def has_add_permission(self, request):
        return False  # a deal is added with its prospect on the "New deal" page

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("pipeline/", view(self.pipeline_view), name="deals_pipeline"),
            path("new/", view(self.new_view), name="deals_new"),
            path("<int:pk>/desk/", view(self.desk_view), name="deals_desk"),
            path("<int:pk>/desk/<str:action>/", view(self.desk_action), name="deals_desk_action"),
            path("<int:pk>/proposal/", view(self.proposal_view), name="deals_proposal"),
            path("<int:pk>/proposal.pdf", view(self.proposal_pdf), name="deals_proposal_pdf"),
            *super().get_urls(),
        ]

    def _context(self, request, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            **extra,
        }

    # The pipeline ---------------------------------------------------------------------

    def pipeline_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        owner = request.GET.get("owner") or None
        stage = request.GET.get("stage") or None
        if stage not in (None, *Stage.values):
            stage = None
        columns = selectors.pipeline(
            owner_id=int(owner) if owner and owner.isdigit() else None,
            stage=stage,
            search=request.GET.get("q", "").strip(),
        )
        context = self._context(
            request,
            _("Deal pipeline"),
            columns=columns,
            owners=forms._staff_choices().queryset,
            owner=owner,
            stage=stage,
            stages=Stage.choices,
            q=request.GET.get("q", ""),
            today=timezone.localdate(),
        )
        return TemplateResponse(request, "admin/deals/pipeline.html", context)

    def new_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = forms.NewDealForm(request.POST or None, initial={"owner": request.user.pk})
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    deal = deal_services.create_deal(
                        _new_deal(form.cleaned_data), at=timezone.now(), by=request.user
                    )
                except deal_services.DealRefused as refused:
                    _form_errors(form, refused)
                else:
                    self.message_user(
                        request,
                        _("Deal “%(title)s” created.") % {"title": deal.title},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:deals_desk", args=[deal.pk]))
            status = 422
        context = self._context(request, _("New deal"), form=form)
        return TemplateResponse(request, "admin/deals/new.html", context, status=status)

    # The deal page --------------------------------------------------------------------

    def _deal(self, pk: int) -> Deal:
        return get_object_or_404(
            Deal.objects.select_related("customer", "owner", "plan", "subscription"), pk=pk
        )

    def desk_view(self, request, pk: int, forms_given: dict | None = None, status: int = 200):
        if not self.has_view_permission(request):
            raise PermissionDenied
        deal = self._deal(pk)
        context = self._context(
            request,
            deal.title,
            **selectors.deal_context(deal),
            **_desk_forms(deal, forms_given or {}),
            history=deal.stage_changes.select_related("by"),
            contacts=deal.customer.contacts.all(),
            links=deal.links.all()[:5],
            bills=deal.bills.all()[:10],
            now=timezone.now(),
        )
        return TemplateResponse(request, "admin/deals/desk.html", context, status=status)

    def desk_action(self, request, pk: int, action: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        handler = DESK_ACTIONS.get(action)
        if handler is None:
            raise Http404("no such action")
        deal = self._deal(pk)
        form = handler.form(request)
        if form.is_valid():
            try:
                message = handler.apply(deal, form, request)
            except SelectionError as refused:
                _form_errors(form, refused)
            else:
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:deals_desk", args=[pk]) + f"#{handler.anchor}"
                )
        return self.desk_view(request, pk, forms_given={action: form}, status=422)

    def proposal_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return views.proposal_response(request, self._deal(pk), pdf=False)

    def proposal_pdf(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return views.proposal_response(request, self._deal(pk), pdf=True)


def _form_errors(form, refused: SelectionError) -> None:
    for field, message in refused.errors.items():
        form.add_error(
            field if field in form.fields else None,
            f"{field}: {message}" if field not in form.fields else message,
        )


def _new_deal(data: dict) -> deal_services.NewDeal:
    contacts = ()
    if data["contact_name"]:
        contacts = (
            deal_services.NewContact(
                name=data["contact_name"],
                role=data["contact_role"],
                email=data["contact_email"],
                phone=data["contact_phone"],
            ),
        )
    return deal_services.NewDeal(
        company=data["company"],
        title=data["title"],
        tier=data["tier"],
        sites=data["sites"],
        lines=data["lines"],
        employees=data["employees"],
        current_provider=data["current_provider"],
        email=data["email"] or data["contact_email"],
        phone=data["phone"],
        country=data["country"].upper(),
        language=data["language"],
        owner_id=data["owner"].pk if data["owner"] else None,
        next_step=data["next_step"],
        next_step_on=data["next_step_on"],
        expected_mrr=data["expected_mrr"],
        contacts=contacts,
    )


def _desk_forms(deal: Deal, given: dict) -> dict:
    """The deal page's forms, each filled from the deal unless it came back with errors."""
    return {
        "stage_form": given.get("stage") or forms.StageForm(),
        "next_form": given.get("next")
        or forms.NextStepForm(
            initial={
                "owner": deal.owner_id,
                "next_step": deal.next_step,
                "next_step_on": deal.next_step_on,
                "expected_mrr": deal.expected_mrr,
            }
        ),
        "offer_form": given.get("offer")
        or forms.OfferForm(
            initial={
                "plan": deal.plan.code if deal.plan_id else None,
                "employees": deal.employees,
                "numbers": deal.numbers,
                "options": deal.options,
            }
        ),
        "cdr_form": given.get("cdrs")
        or forms.CdrUploadForm(initial={"country": deal.customer.country}),
        "summary_formset": given["summary"].formset
        if "summary" in given
        else forms.SummaryFormSet(prefix="month", initial=_summary_initial(deal)),
        "share_form": given.get("share") or forms.ShareForm(),
        "tco_form": given.get("tco") or forms.TcoForm(initial=tco_services.tco_form_initial(deal)),
        "deployment_form": given.get("deployment")
        or forms.DeploymentForm(initial=tco_services.deployment_initial(deal)),
    }


def _summary_initial(deal: Deal) -> list[dict]:
    bill = deal.bills.filter(kind=BillAnalysis.Kind.SUMMARY).order_by("-uploaded_at").first()
    if bill is None:
        return [{"month": ""} for _ in range(3)]
    return [
        {
            "month": row["month"],
            **row["minutes"],
            "usage_charges": row["usage_charges"],
            "line_rental": row.get("line_rental"),
            "fixed_fees": row.get("fixed_fees"),
        }
        for row in bill.months
    ]


class _Action:
    """A deal-page form: how to build it from the request and what it does."""

    def __init__(self, form, apply, anchor: str):
        self.form, self.apply, self.anchor = form, apply, anchor


def _move(deal: Deal, form, request) -> str:
    data, at = form.cleaned_data, timezone.now()
    stage = data["stage"]
    if stage == Stage.WON:
        # The service refuses too, but in the API's English words.
        if deal.plan_id is None:
            raise deal_services.DealRefused(
                {"stage": _("Save an offer first: the subscription starts on it.")}
            )
        deal_services.win_deal(deal, at=at, by=request.user)
        return _("Deal won: the subscription has started.")
    if stage == Stage.LOST:
        deal_services.lose_deal(
            deal, reason=data["reason"], at=at, by=request.user, note=data["note"]
        )
        return _("Deal lost: follow-ups in 3 and 6 months will be created.")
    deal_services.move_deal(deal, stage, at=at, by=request.user, note=data["note"])
    return _("Deal moved to “%(stage)s”.") % {"stage": Stage(stage).label}


def _next(deal: Deal, form, request) -> str:
    data = form.cleaned_data
    deal.owner = data["owner"]
    deal.next_step, deal.next_step_on, deal.expected_mrr = (
        data["next_step"],
        data["next_step_on"],
        data["expected_mrr"],
    )
    deal.save(update_fields=["owner", "next_step", "next_step_on", "expected_mrr"])
    return _("Next step saved.")


@transaction.atomic  # the offer and the bill compared with it change together
def _offer(deal: Deal, form, request) -> str:
    data = form.cleaned_data
    deal_services.set_offer(
        deal,
        plan=data["plan"].code,
        employees=data["employees"],
        numbers=data["numbers"],
        options=tuple(option.code for option in data["options"]),
    )
    bills.refresh_bills(deal, at=timezone.now())
    return _("Offer saved; the bill is being compared with it again.")


def _cdrs(deal: Deal, form, request) -> str:
    data = form.cleaned_data
    upload = data["file"]
    bills.upload_cdrs(
        deal,
        upload,
        file_name=upload.name,
        format=data["format"],
        country=data["country"].upper(),
        home_area=data["home_area"] or None,
        tariff=bills.CurrentTariff(
            line_rental=data["line_rental"] or 0,
            fixed_fees=data["fixed_fees"] or 0,
            rates=form.rates(),
            cost_column=data["cost_column"] or None,
        ),
        at=timezone.now(),
        by=request.user,
    )
    return _("Call records %(file)s received: the analysis appears here when it is done.") % {
        "file": upload.name
    }


class _SummaryForm:
    """The summary formset behind the one-form interface of the actions."""

    def __init__(self, request):
        self.formset = forms.SummaryFormSet(request.POST, prefix="month")

    def is_valid(self):
        return self.formset.is_valid()

    @property
    def fields(self):
        return {}

    def add_error(self, field, message):
        self.formset._non_form_errors = self.formset.error_class(
            [*self.formset.non_form_errors(), message]
        )


def _summary(deal: Deal, form, request) -> str:
    rows = [f.row() for f in form.formset.forms if f.cleaned_data]
    bills.enter_summary(deal, rows, at=timezone.now(), by=request.user)
    return ngettext(
        "Invoice summary of %(months)s month analysed.",
        "Invoice summary of %(months)s months analysed.",
        len(rows),
    ) % {"months": len(rows)}


def _tco(deal: Deal, form, request) -> str:
    tco_services.save_tco_inputs(deal, form.cleaned_data)
    return _("TCO computed.")


def _deployment(deal: Deal, form, request) -> str:
    tco_services.save_deployment(deal, form.cleaned_data)
    return _("Deployment advice updated.")


def _share(deal: Deal, form, request) -> str:
    link = proposals.share(deal, days=form.cleaned_data["days"], at=timezone.now(), by=request.user)
    until = dateformat.format(timezone.localtime(link.expires_at), _("j M Y, H:i"))
    return _("Share link made, valid until %(until)s.") % {"until": until}


DESK_ACTIONS = {
    "stage": _Action(lambda r: forms.StageForm(r.POST), _move, "stage"),
    "next": _Action(lambda r: forms.NextStepForm(r.POST), _next, "stage"),
    "offer": _Action(lambda r: forms.OfferForm(r.POST), _offer, "offer"),
    "cdrs": _Action(lambda r: forms.CdrUploadForm(r.POST, r.FILES), _cdrs, "bill"),
    "summary": _Action(_SummaryForm, _summary, "bill"),
    "tco": _Action(lambda r: forms.TcoForm(r.POST), _tco, "tco"),
    "deployment": _Action(lambda r: forms.DeploymentForm(r.POST), _deployment, "deployment"),
    "share": _Action(lambda r: forms.ShareForm(r.POST), _share, "proposal"),
}


@admin.register(BillAnalysis)
class BillAnalysisAdmin(admin.ModelAdmin):
    list_display = ["deal", "kind", "file_name", "cdr_format", "uploaded_at"]
    list_filter = ["kind", "cdr_format"]
    raw_id_fields = ["deal"]
    readonly_fields = ["sha256", "stored_as", "profile", "uploaded_at", "uploaded_by"]


@admin.register(ProposalLink)
class ProposalLinkAdmin(admin.ModelAdmin):
    list_display = ["token", "deal", "created_at", "expires_at"]
    raw_id_fields = ["deal"]
    readonly_fields = ["token", "created_at", "created_by"]
