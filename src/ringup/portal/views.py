"""The customer portal: services, changes with their proration, invoices and payment,
usage, profile and help.

Every view runs for a logged-in user linked to a customer (:func:`customer_required`) and
reads through ``selectors`` with that customer, so a subscription, invoice or call of
anyone else answers 404 exactly like one that does not exist.
"""

import csv
from datetime import date
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ringup.billing.conf import billing_settings
from ringup.billing.services.subscriptions import (
    cancel_subscription,
    change_subscription,
    convert_trial,
    preview_change,
)
from ringup.billing.views import pdf_response, render_invoice
from ringup.catalog.models import Option, Plan, TrafficPackage
from ringup.customers.models import Customer
from ringup.engine.pricing import SelectionError
from ringup.marketing.engagement.services.banners import show_banners
from ringup.marketing.referrals.models import ReferralProgram
from ringup.marketing.referrals.selectors import (
    invitations_with_outcome,
    referral_link,
    referral_summary,
)
from ringup.marketing.referrals.services import Acquaintance, InvitationError, submit_invitations
from ringup.usage.numbers import numbers_summary

from . import selectors, services
from .forms import REFUSALS, AcquaintanceFormSet, NotificationForm, ProfileForm, change_request

CALLS_PER_PAGE = 50
USAGE_MONTHS = 12


def customer_required(view):
    """Log in first; a login without a customer gets a page saying so (403). What is not
    this customer's answers the portal's own 404 page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        customer = Customer.objects.filter(user=request.user).first()
        if customer is None:
            return render(request, "portal/no_customer.html", status=403)
        request.customer = customer
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return render(request, "portal/not_found.html", status=404)

    return wrapped


def _subscription_or_404(request, pk: int):
    subscription = selectors.subscription_of(request.customer, pk)
    if subscription is None:
        raise Http404("no such subscription")
    return subscription


def _invoice_or_404(request, pk: int):
    invoice = selectors.invoice_of(request.customer, pk)
    if invoice is None:
        raise Http404("no such invoice")
    return invoice


def _month(request) -> date:
    """The month of ``?month=YYYY-MM`` among the last twelve; this month by default."""
    months = selectors.previous_months(timezone.localdate(), USAGE_MONTHS)
    value = request.GET.get("month", "")
    for month in months:
        if value == f"{month:%Y-%m}":
            return month
    return months[0]


# Dashboard -----------------------------------------------------------------------------


@require_GET
@customer_required
def dashboard(request):
    at = timezone.now()
    customer = request.customer
    services_ = [
        selectors.service(subscription, at)
        for subscription in selectors.live_subscriptions(customer, at)
    ]
    month = selectors.month_start(timezone.localdate())
    since, until = selectors.month_bounds(month)
    return render(
        request,
        "portal/dashboard.html",
        {
            "services": [
                (service, selectors.next_invoice(service.subscription, at)) for service in services_
            ],
            "account": selectors.account(customer),
            "usage": selectors.usage_summary(customer, since, until),
            "month": month,
            "previous_month": selectors.previous_months(month, 2)[1],
            "articles": selectors.help_articles(customer.language)[:4],
            "banners": show_banners(customer, at=at),
            "referral_link": referral_link(customer, at=at),
            "referral": referral_summary(customer),
        },
    )


# Changing a subscription ---------------------------------------------------------------


@require_GET
@customer_required
def change(request, pk: int):
    subscription = _subscription_or_404(request, pk)
    at = timezone.now()
    return render(
        request,
        "portal/change.html",
        {
            "service": selectors.service(subscription, at),
            "plans": Plan.objects.filter(is_public=True).order_by("sort_order", "monthly_fee"),
        },
    )


@require_GET
@customer_required
def preview(request, pk: int):
    """What the change in the query would cost now; writes nothing."""
    subscription = _subscription_or_404(request, pk)
    at = timezone.now()
    service = selectors.service(subscription, at)
    try:
        wanted = change_request(request.GET, service)
        outcome = preview_change(subscription, wanted, at=at)
    except SelectionError as error:
        return render(
            request,
            "portal/change_refused.html",
            {"service": service, "errors": error.errors},
            status=422,
        )
    upcoming = selectors.next_invoice(subscription, at) if outcome.period else None
    return render(
        request,
        "portal/preview.html",
        {
            "service": service,
            "outcome": outcome,
            "plan_name": Plan.objects.get(code=outcome.after.plan).name,
            "added": _option_names(set(outcome.after.options) - set(outcome.before.options)),
            "removed": _option_names(set(outcome.before.options) - set(outcome.after.options)),
            "package_before": _package_name(outcome.before.traffic_package),
            "package_after": _package_name(outcome.after.traffic_package),
            "token": services.sign_change(subscription.pk, wanted, at),
            "next": upcoming,
            # What the change adds to the period under way lands on that period's invoice.
            "next_after": upcoming.total + outcome.totals.total if upcoming else None,
        },
    )


def _package_name(code: str | None) -> str:
    found = TrafficPackage.objects.filter(code=code).first() if code else None
    return found.name if found else ""


def _option_names(codes: set[str]) -> list[str]:
    return list(Option.objects.filter(code__in=codes).values_list("name", flat=True))


@require_POST
@customer_required
def confirm(request, pk: int):
    """Apply the previewed change at the instant it was previewed, so it costs exactly
    what the customer saw."""
    subscription = _subscription_or_404(request, pk)
    try:
        previewed = services.read_change(request.POST.get("token", ""), subscription.pk)
        change_subscription(subscription, previewed.request, at=previewed.at)
    except services.ChangeExpired:
        messages.error(request, _("That preview has expired. Please check the new price again."))
        return redirect("portal:change", pk=subscription.pk)
    except SelectionError as error:
        messages.error(
            request,
            _("The change was not made: %(reasons)s")
            % {"reasons": "; ".join(error.errors.values())},
        )
        return redirect("portal:change", pk=subscription.pk)
    messages.success(request, _("Done: your subscription is updated."))
    return redirect("portal:dashboard")


@require_POST
@customer_required
def convert(request, pk: int):
    """The customer keeps the trial's plan: paid from the end of the trial, or from the
    next midnight with ``start_now``."""
    subscription = _subscription_or_404(request, pk)
    start_now = request.POST.get("start_now") == "1"
    try:
        convert_trial(subscription, at=timezone.now(), start_now=start_now)
    except SelectionError as error:
        messages.error(
            request, _("Not done: %(reasons)s") % {"reasons": "; ".join(error.errors.values())}
        )
        return redirect("portal:dashboard")
    if start_now:
        messages.success(request, _("Welcome aboard: your paid service starts at midnight."))
    else:
        messages.success(request, _("Done: your service continues after the trial."))
    return redirect("portal:dashboard")


@require_http_methods(["GET", "POST"])
@customer_required
def cancel(request, pk: int):
    subscription = _subscription_or_404(request, pk)
    at = timezone.now()
    service = selectors.service(subscription, at)
    if request.method == "POST":
        try:
            outcome = cancel_subscription(subscription, at=at)
        except SelectionError as error:
            messages.error(
                request,
                _("Not cancelled: %(reasons)s") % {"reasons": "; ".join(error.errors.values())},
            )
            return redirect("portal:dashboard")
        zone = billing_settings().zone
        ends = timezone.localtime(outcome.ended_at, zone)
        messages.success(
            request,
            _("Cancelled: your service runs until %(end)s.")
            % {"end": dateformat.format(ends, _("d M Y H:i"))},
        )
        return redirect("portal:dashboard")
    return render(request, "portal/cancel.html", {"service": service})


# Invoices and payment ------------------------------------------------------------------


@require_GET
@customer_required
def invoices(request):
    customer = request.customer
    page = Paginator(selectors.invoices_of(customer), 25).get_page(request.GET.get("page"))
    account = selectors.account(customer)
    owed = {item.id: item.owed for item in account.owed_invoices}
    return render(
        request,
        "portal/invoices.html",
        {
            "page": page,
            "rows": [(invoice, owed.get(invoice.pk)) for invoice in page],
            "account": account,
        },
    )


@require_GET
@customer_required
def invoice(request, pk: int):
    found = _invoice_or_404(request, pk)
    owed = next(
        (item.owed for item in selectors.account(request.customer).owed_invoices if item.id == pk),
        None,
    )
    return render(
        request,
        "portal/invoice.html",
        {"invoice": found, "owed": owed, "seller": billing_settings().seller},
    )


@require_GET
@customer_required
def invoice_document(request, pk: int):
    """The invoice document billing prints, for this customer's invoice only."""
    return HttpResponse(render_invoice(_invoice_or_404(request, pk), for_print=False))


@require_GET
@customer_required
def invoice_pdf(request, pk: int):
    return pdf_response(_invoice_or_404(request, pk))


# Usage ---------------------------------------------------------------------------------


@require_GET
@customer_required
def usage(request):
    customer = request.customer
    month = _month(request)
    since, until = selectors.month_bounds(month)
    page = Paginator(selectors.calls_of(customer, since, until), CALLS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "portal/usage.html",
        {
            "month": month,
            "months": selectors.previous_months(timezone.localdate(), USAGE_MONTHS),
            "summary": selectors.usage_summary(customer, since, until),
            "numbers": numbers_summary(customer, since, until),
            "page": page,
            "currency": selectors.account(customer).currency,
            "zone": billing_settings().zone,
        },
    )


class _Echo:
    def write(self, value):
        return value


@require_GET
@customer_required
def usage_csv(request):
    """Every call of the month as CSV, streamed."""
    month = _month(request)
    since, until = selectors.month_bounds(month)
    zone = billing_settings().zone
    calls = selectors.calls_of(request.customer, since, until).values_list(
        "start", "dst", "description", "duration", "billed_seconds", "cost", "reason"
    )
    writer = csv.writer(_Echo())
    header = ["start", "number", "destination", "duration_s", "billed_s", "cost", "unrated"]

    def rows():
        yield writer.writerow(header)
        for start, dst, description, seconds, billed, cost, reason in calls.iterator(2000):
            yield writer.writerow(
                [
                    timezone.localtime(start, zone).isoformat() if start else "",
                    dst,
                    description,
                    seconds if seconds is not None else "",
                    billed if billed is not None else "",
                    f"{cost:.2f}" if cost is not None else "",
                    reason,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="calls-{month:%Y-%m}.csv"'
    return response


# Profile -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@customer_required
def profile(request):
    customer = request.customer
    chosen = selectors.notification_settings(customer)
    initial_profile = {
        "name": customer.name,
        "phone": customer.phone,
        "language": customer.language,
    }
    initial_mail = {
        "invoices": chosen.invoices,
        "trial_reminders": chosen.trial_reminders,
        "product_news": chosen.product_news,
    }
    if request.method == "POST":
        form = ProfileForm(request.POST, country=customer.country)
        mail = NotificationForm(request.POST)
        if form.is_valid() and mail.is_valid():
            services.update_profile(customer, **form.cleaned_data)
            services.save_notification_settings(customer, **mail.cleaned_data, at=timezone.now())
            messages.success(request, _("Your profile is saved."))
            return redirect("portal:profile")
    else:
        form = ProfileForm(initial=initial_profile, country=customer.country)
        mail = NotificationForm(initial=initial_mail)
    return render(
        request,
        "portal/profile.html",
        {"form": form, "mail": mail, "login_email": request.user.email},
    )


# Recommending us -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@customer_required
def referrals(request):
    """The referral link, the program's terms, a form to name acquaintances and what
    became of those named before."""
    customer = request.customer
    people = AcquaintanceFormSet(
        request.POST or None, prefix="people", form_kwargs={"country": customer.country}
    )
    if request.method == "POST" and people.is_valid():
        filled = [form for form in people if not form.is_blank()]
        if not filled:
            messages.error(request, _("Name at least one acquaintance."))
        elif _invite(request, customer, filled):
            return redirect("portal:referrals")
    return render(
        request,
        "portal/referrals.html",
        {
            "people": people,
            "program": ReferralProgram.current(),
            "referral_link": referral_link(customer),
            "referral": referral_summary(customer),
            "invitations": invitations_with_outcome(customer),
        },
    )


def _invite(request, customer, filled) -> bool:
    """Record the acquaintances of the ``filled`` rows; the program's refusals go back
    onto their rows. Whether they were recorded."""
    named = [
        Acquaintance(
            form.cleaned_data["name"], form.cleaned_data["email"], form.cleaned_data["phone"]
        )
        for form in filled
    ]
    try:
        created = submit_invitations(customer, named, at=timezone.now())
    except InvitationError as error:
        for key, message in error.errors.items():
            _prefix, index, field = key.split(".")
            filled[int(index)].add_error(field, REFUSALS.get(message, message))
        return False
    if created:
        messages.success(
            request,
            ngettext(
                "Thank you! We have added %(count)d acquaintance.",
                "Thank you! We have added %(count)d acquaintances.",
                len(created),
            )
            % {"count": len(created)},
        )
    else:
        messages.success(request, _("You had named them already: nothing new to add."))
    return True


# Help ----------------------------------------------------------------------------------


def _help_language(request) -> str:
    language = request.GET.get("lang") or request.customer.language
    return language if language in {"en", "ru"} else "en"


@require_GET
@customer_required
def help_index(request):
    language = _help_language(request)
    articles = list(selectors.help_articles(language))
    return render(
        request,
        "portal/help_index.html",
        {
            "language": language,
            "guides": [a for a in articles if a.category == "guide"],
            "faq": [a for a in articles if a.category == "faq"],
        },
    )


@require_GET
@customer_required
def help_article(request, slug: str):
    language = _help_language(request)
    article = selectors.help_article(language, slug)
    if article is None:
        raise Http404("no such article")
    return render(request, "portal/help_article.html", {"article": article})
