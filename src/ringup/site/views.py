"""Public pages: landing, tariff calculator, shared quotes, plan advisor, direct buy links
and the trial sign-up. Views parse, call the catalog or the sign-up service and render."""

from urllib.parse import parse_qsl, urlencode

from allauth.account.views import SignupView
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ringup.catalog import selectors, services
from ringup.catalog.advice import reasons as advice_reasons
from ringup.catalog.models import Plan, Quote
from ringup.engine import advisor, pricing

from . import calculator
from . import offer as offers
from . import signup as signups
from .account_forms import default_plan_code
from .breakdown import Breakdown
from .forms import MISSED_CALL_COSTS, AdvisorForm, selection_query


@require_GET
def home(request):
    plans = selectors.public_plans()
    return render(
        request,
        "site/home.html",
        {"cards": calculator.plan_cards(plans), "quote_valid_days": services.QUOTE_VALID_DAYS},
    )


def _chosen_plan(data) -> Plan:
    """The plan named by ``?plan=``; the SMB plan when none is named."""
    code = data.get("plan")
    plan = selectors.get_plan(code) if code else calculator.default_plan(selectors.public_plans())
    if plan is None:
        raise Http404("No such plan")
    return plan


def _manager_mode(request, embed: bool) -> bool:
    # The embed runs on other people's sites without CSRF protection (see pricing_embed),
    # so it never acts with a manager's authority.
    return not embed and request.user.is_staff


def _seed(request) -> str:
    """Keeps one visitor's related products stable; a visitor without a session gets the
    day's rotation."""
    return request.session.session_key or timezone.localdate().isoformat()


def _promo_code(request, data) -> str:
    """The promo code of the link, or the one kept from an earlier page (the session)."""
    code = data.get("promo") or request.session.get(offers.REFERRAL_SESSION_KEY, {}).get("promo")
    return (code or "").upper()


def _calculator_context(request, data, *, embed: bool) -> dict:
    plan = _chosen_plan(data)
    calc = calculator.build(
        data,
        plan,
        manager_mode=_manager_mode(request, embed),
        promo_code=_promo_code(request, data),
    )
    prefix = "site:embed_" if embed else "site:pricing_"
    return {
        "calc": calc,
        "embed": embed,
        "suggestions": calculator.suggestions(plan, at=timezone.now(), seed=_seed(request)),
        "breakdown_url": reverse(prefix + "breakdown"),
        "save_url": reverse(prefix + "save"),
        "page_url": reverse("site:embed" if embed else "site:pricing"),
        "quote_valid_days": services.QUOTE_VALID_DAYS,
    }


def _render_calculator_page(request, data, *, embed: bool):
    context = _calculator_context(request, data, embed=embed)
    plans = selectors.public_plans()
    if embed:
        return render(request, "site/embed.html", {**context, "plans": plans})
    context["cards"] = calculator.plan_cards(plans)
    return render(request, "site/pricing.html", context)


@require_http_methods(["GET", "POST"])
def pricing_page(request):
    """GET pre-fills from the query string; POST is the recalculation without JavaScript."""
    data = request.POST if request.method == "POST" else request.GET
    return _render_calculator_page(request, data, embed=False)


@require_POST
def pricing_breakdown(request):
    """The htmx partial: the breakdown, plus each field's error slot and the related
    products swapped out of band, so the inputs being typed into are left alone."""
    context = _calculator_context(request, request.POST, embed=False)
    return render(request, "site/_calculator_response.html", context)


def _source(calc: calculator.Calculator, embed: bool) -> str:
    if embed:
        return Quote.Source.EMBED
    if calc.manager_mode:
        return Quote.Source.MANAGER
    if calc.values["origin"] == "advisor":
        return Quote.Source.ADVISOR
    return Quote.Source.CALCULATOR


def _save(request, *, embed: bool):
    plan = _chosen_plan(request.POST)
    calc = calculator.build(request.POST, plan, manager_mode=_manager_mode(request, embed))
    if calc.request is None:
        return _render_calculator_page(request, request.POST, embed=embed)
    quote = services.create_quote(
        calc.request,
        at=timezone.now(),
        source=_source(calc, embed),
        manager=request.user if calc.manager_mode else None,
    )
    return redirect("site:quote", token=quote.token)


@require_POST
def save_quote(request):
    return _save(request, embed=False)


# The embed lives in an iframe on the operator's (or a partner's) site. Browsers do not send
# our CSRF cookie from inside a third-party frame, so its POSTs cannot carry the token; they
# only price and save anonymous quotes, which nobody's session authorises (see _manager_mode).
@xframe_options_exempt
@csrf_exempt
@require_http_methods(["GET", "POST"])
def pricing_embed(request):
    data = request.POST if request.method == "POST" else request.GET
    return _render_calculator_page(request, data, embed=True)


@csrf_exempt
@require_POST
def embed_breakdown(request):
    context = _calculator_context(request, request.POST, embed=True)
    return render(request, "site/_calculator_response.html", context)


@xframe_options_exempt
@csrf_exempt
@require_POST
def embed_save(request):
    return _save(request, embed=True)


def _quote_links(quote: Quote) -> dict:
    """Links that carry a saved quote's selection: re-price it, buy it, try it."""
    selection = quote.selection
    numbers = selection.get("numbers")
    params = {
        "employees": quote.employees,
        "extra_numbers": max(0, numbers - quote.plan.included_numbers) if numbers else 0,
        "tollfree_numbers": selection.get("tollfree_numbers") or 0,
        "options": selection.get("options") or (),
        "traffic_package": selection.get("traffic_package"),
        "period": quote.period,
    }
    plan = quote.plan.code
    return {
        "calculator_url": f"{reverse('site:pricing')}?{selection_query(plan=plan, **params)}",
        "buy_url": f"{reverse('site:buy', args=[plan])}?{selection_query(**params)}",
        "signup_url": f"{reverse('site:signup')}?{urlencode({'quote': quote.token})}",
    }


def _quote_context(token: str) -> dict:
    quote = get_object_or_404(Quote.objects.select_related("plan"), token=token)
    return {
        "quote": quote,
        "breakdown": Breakdown.of(quote),
        "expired": quote.valid_until < timezone.now(),
        **_quote_links(quote),
    }


@require_GET
def quote_page(request, token):
    return render(request, "site/quote.html", _quote_context(token))


@require_GET
def quote_pdf(request, token):
    context = _quote_context(token)
    html = render_to_string("site/quote_pdf.html", context, request)
    # WeasyPrint loads Pango when imported: only the PDF view should pay for that.
    from weasyprint import HTML

    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="quote-{token}.pdf"'
    return response


def _offer_context(request, data) -> dict:
    """The priced offer of ``data`` for the sign-up and buy pages, or its errors."""
    codes = request.session.get(offers.REFERRAL_SESSION_KEY, {})
    try:
        priced = offers.parse(data, default_plan=default_plan_code(), codes=codes)
    except offers.OfferError as error:
        return {"offer_errors": list(error.errors.values())}
    query = priced.offer.query()
    return {
        "promo_note": offers.promo_note(priced, at=timezone.now()),
        "priced": priced,
        "plan": priced.plan,
        "chosen_options": [o for o in priced.plan.options.all() if o.code in priced.offer.options],
        "breakdown": Breakdown.of(priced.quote),
        "offer_fields": parse_qsl(query),
        "offer_query": query,
    }


def _deal_context(data) -> dict:
    """The deal of a proposal's "Try free" link: its company and token for the form, or
    the notice why the link is not used (the sign-up is then a normal one)."""
    deal, notice = signups.deal_of(data, at=timezone.now())
    if deal is None:
        return {"deal_notice": notice}
    return {"trial_company": deal.customer.name, "deal_token": data["deal"]}


class TrialSignupView(SignupView):
    """The trial sign-up (allauth's, with the offer the visitor came with)."""

    template_name = "site/signup.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        data = self.request.POST if self.request.method == "POST" else self.request.GET
        return (
            context
            | _offer_context(self.request, data)
            | _deal_context(data)
            | {"buying": data.get("buy") == "1"}
        )

    def form_valid(self, form):
        # The user, the sign-up and its e-mail address are written together; a racing
        # sign-up with the same address or number loses on the unique constraints.
        try:
            with transaction.atomic():
                return super().form_valid(form)
        except IntegrityError:
            form.add_error(
                None, _("This e-mail address or phone number has already been used for a trial.")
            )
            return self.form_invalid(form)


signup = TrialSignupView.as_view()


@require_GET
def buy(request, plan):
    """A direct buy link: exactly the offer the link names, priced as the calculator
    prices it; what cannot be sold is listed, never a server error."""
    chosen = selectors.get_plan(plan)
    if chosen is None:
        raise Http404(_("No such plan"))
    calc = calculator.build(
        request.GET, chosen, manager_mode=False, promo_code=_promo_code(request, request.GET)
    )
    data = request.GET.copy()
    data["plan"] = chosen.code
    return render(
        request,
        "site/buy.html",
        {
            "calc": calc,
            **_offer_context(request, data),
            # The selection travels on to "Save as a quote" and back to the calculator as is.
            "form_values": [
                (name, value)
                for name, values in request.GET.lists()
                for value in values
                if name not in {"plan", "promo", "ref", "buy"}
            ],
            "calculator_url": f"{reverse('site:pricing')}?plan={chosen.code}&"
            + request.GET.urlencode(),
        },
    )


@require_GET
def advisor_page(request):
    form = AdvisorForm(request.GET if "employees" in request.GET else None)
    context = {"form": form, "missed_call_costs": MISSED_CALL_COSTS}
    if form.is_valid():
        try:
            advice, plan, priced = services.advise(form.answers())
        except (advisor.AdviceError, pricing.SelectionError) as error:
            context["advice_error"] = str(error)
        else:
            context |= {
                "advice": advice,
                "reasons": advice_reasons(advice),
                "plan": plan,
                "breakdown": Breakdown.of(priced),
                "options": [o for o in plan.options.all() if o.code in advice.option_codes],
            }
            query = selection_query(
                plan=plan.code,
                employees=advice.employees,
                tollfree_numbers=advice.tollfree_numbers,
                options=advice.option_codes,
                traffic_package=advice.traffic_package,
                origin="advisor",
            )
            context["calculator_url"] = f"{reverse('site:pricing')}?{query}"
            context["signup_url"] = f"{reverse('site:signup')}?{query}"
    return render(request, "site/advisor.html", context)
