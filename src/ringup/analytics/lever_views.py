"""Back office: the ARPU levers page and its actions (segment, draft mailing, follow-up
tasks). Staff only, through the admin site; docs/arpu-levers.md."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ringup.catalog.models import Segment as Tier
from ringup.marketing.segments.conditions import describe

from . import levers

# The page shows this many entries per list; the actions take every listed customer.
SHOWN = 50
HEADINGS = {
    levers.STEP_UP: gettext_lazy("Outgrown the cheapest plan"),
    levers.ATTACH_GAP: gettext_lazy("Missing what their peers buy"),
    levers.AT_RISK: gettext_lazy("High value at risk"),
}
RULES = {
    levers.STEP_UP: gettext_lazy(
        "Paying on their tier's cheapest plan for 90 days, talking more than their minute "
        "bundle includes (monthly average of the last 90 days), where a bigger bundle of the "
        "plan costs them at most 10 % more than the bundle and extra minutes cost now."
    ),
    levers.ATTACH_GAP: gettext_lazy(
        "Per tier, the add-ons held by at least a quarter (and at least 3) of its paying "
        "customers, at most two; listed are the paying customers whose plan offers the "
        "add-on and who lack it."
    ),
    levers.AT_RISK: gettext_lazy(
        "Paying customers whose stored churn risk for the next month and lifetime value are "
        "at least the figures below (by default: the riskiest quarter, worth more than the median)."
    ),
}
ACTIONS = ("segment", "mailing", "tasks")
PERMISSIONS = {
    "segment": "segments.add_segment",
    "mailing": "mailings.add_mailing",
    "tasks": "engagement.add_followuptask",
}


class BadThreshold(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _decimal(raw: str | None, field: str, *, high: Decimal, places: int) -> Decimal | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = Decimal(raw.strip().replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        raise BadThreshold(field, _("Enter a number.")) from None
    if not value.is_finite() or not 0 <= value <= high or value.as_tuple().exponent < -places:
        raise BadThreshold(
            field,
            _("Enter a number from 0 to %(high)s with at most %(places)s decimals.")
            % {"high": high, "places": places},
        )
    return value


def thresholds(data) -> dict:
    """The at-risk list's thresholds from the query or form: ``risk`` in percent (0–100,
    at most two decimals) and ``clv`` (an amount); raises ``BadThreshold`` naming the field."""
    risk = _decimal(data.get("risk"), "risk", high=Decimal(100), places=2)
    clv = _decimal(data.get("clv"), "clv", high=Decimal(10**12), places=2)
    return {"risk": None if risk is None else risk / 100, "clv": clv}


def _amounts(entry) -> dict:
    if isinstance(entry, levers.AtRisk):
        return {
            "stake": levers.money_text(entry.at_stake, entry.currency),
            "tier": Tier(entry.tier).label,
        }
    return {"gain": levers.money_text(entry.mrr_gain, entry.currency)}


def _card(found: levers.Lever) -> dict:
    shown = found.entries[:SHOWN]
    gains = {}
    for entry in found.entries:
        gain = getattr(entry, "mrr_gain", None)
        if gain is not None:
            gains[entry.currency] = gains.get(entry.currency, Decimal(0)) + gain
    return {
        "key": found.key,
        "heading": HEADINGS[found.key],
        "rule": RULES[found.key],
        "customers": len(found.customer_ids),
        "rows": [
            {
                "entry": entry,
                "why": levers.justify(entry),
                "url": reverse("admin:customers_customer_change", args=[entry.customer_id]),
                **_amounts(entry),
            }
            for entry in shown
        ],
        "more": len(found.entries) - len(shown),
        "gains": [levers.money_text(total, currency) for currency, total in sorted(gains.items())],
        "in_words": describe(found.conditions) if found.entries else "",
    }


def levers_page(request):
    """The three lists at this moment, each with its figures and its actions."""
    at = timezone.now()
    status, error = 200, None
    try:
        wanted = thresholds(request.GET)
    except BadThreshold as bad:
        status, error, wanted = 422, bad, {"risk": None, "clv": None}
    found = [
        levers.step_ups(at=at),
        levers.attach_gaps(at=at),
        levers.at_risk(at=at, risk=wanted["risk"], clv=wanted["clv"]),
    ]
    at_risk = found[2].thresholds
    context = {
        **request.admin_site.each_context(request),
        "title": _("ARPU levers"),
        "cards": [_card(lever) for lever in found],
        "at": at,
        "error": error,
        "risk_percent": f"{(at_risk['risk'] * 100).normalize():f}",
        "clv": f"{at_risk['clv'].normalize():f}",
        "page_url": request.path,
        "actions": [
            ("segment", _("Make a segment")),
            ("mailing", _("Draft a mailing")),
            ("tasks", _("Follow-up task for each")),
        ],
    }
    return TemplateResponse(request, "admin/analytics/levers.html", context, status=status)


def lever_action(request, key: str, action: str):
    """POST: make the list's segment, a draft mailing to it, or its follow-up tasks."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if key not in levers.TITLES or action not in ACTIONS:
        raise Http404
    if not request.user.has_perm(PERMISSIONS[action]):
        raise PermissionDenied
    page = request.path.rsplit(f"{key}/{action}/", 1)[0]
    try:
        wanted = thresholds(request.POST)
    except BadThreshold as bad:
        messages.error(request, f"{bad.field}: {bad.message}")
        return HttpResponseRedirect(page)
    at = timezone.now()
    found = levers.lever(key, at=at, **wanted)
    if not found.entries:
        messages.warning(request, _("The list is empty: nothing to do."))
        return HttpResponseRedirect(page)
    if action == "segment":
        segment = levers.make_segment(found)
        messages.success(request, _("Segment “%(name)s” is ready.") % {"name": segment.name})
        return HttpResponseRedirect(reverse("admin:segments_segment_change", args=[segment.pk]))
    if action == "mailing":
        mailing = levers.draft_mailing(found)
        messages.success(
            request,
            _("Draft mailing “%(name)s” to the segment: check the text, then activate it.")
            % {"name": mailing.name},
        )
        return HttpResponseRedirect(reverse("admin:mailings_mailing_change", args=[mailing.pk]))
    made, listed = levers.make_tasks(found, at=at, assignee_id=request.user.pk)
    messages.success(
        request,
        _(
            "%(made)s new follow-up tasks for you; %(old)s of the %(listed)s customers had one "
            "from this list this month already."
        )
        % {"made": made, "old": listed - made, "listed": listed},
    )
    return HttpResponseRedirect(page)


def lever_urls(admin_site) -> list:
    """The page and its actions, wrapped for staff by ``admin_site``; include them under
    a prefix, e.g. ``path("levers/", include(lever_urls(admin.site)))``."""

    def with_site(view):
        def wrapped(request, *args, **kwargs):
            request.admin_site = admin_site
            return view(request, *args, **kwargs)

        return admin_site.admin_view(wrapped)

    return [
        path("", with_site(levers_page), name="analytics_levers"),
        path(
            "<slug:key>/<slug:action>/",
            with_site(lever_action),
            name="analytics_lever_action",
        ),
    ]
