"""Revenue analytics API for the operator's staff: the dashboard's figures from the latest
recompute — monthly summary, MRR movements, ARPU by tier, cohorts, retention projection,
products, funnel, trials, campaign lift — with the dashboard's filters.

Authentication as for billing: an API key (``Authorization: Bearer rk_…``) or a staff
session. A bad filter answers 422 naming it in ``loc`` (``["query", "tier"]``). Amounts
are decimal strings in the row's currency, without VAT; rates are fractions (0.05 = 5 %).
"""

from datetime import date, datetime
from typing import Any

from ninja import Field, Query, Router, Schema, Status
from ninja.security import SessionAuthIsStaff

from ringup.apikeys.auth import ApiKeyAuth
from ringup.catalog.api import Message, Unprocessable

from . import charts, selectors
from .selectors import FilterError

router = Router(tags=["analytics"], auth=[ApiKeyAuth(), SessionAuthIsStaff()])
ERRORS = {401: Message, 403: Message, 404: Message, 422: Unprocessable}


class FiltersIn(Schema):
    tier: str = Field("", description="micro, smb or enterprise; empty: all tiers")
    plan: str = Field("", description="A plan code; empty: all plans")
    currency: str = Field("", description="ISO 4217; empty: the currency with most customers")
    since: str = Field("", alias="from", description="First month, YYYY-MM")
    to: str = Field("", description="Last month, YYYY-MM")


class RunOut(Schema):
    until: date = Field(description="The history before this day (exclusive)")
    status: str
    finished_at: datetime | None
    customers: int


class DatasetOut(Schema):
    run: RunOut
    tier: str
    plan: str
    currency: str
    rows: list[dict[str, Any]]


def _dataset(name: str, request, filters: FiltersIn):
    run = selectors.latest_run()
    if run is None:
        return Status(404, {"detail": "no recompute has finished yet"})
    params = {
        "tier": filters.tier,
        "plan": filters.plan,
        "currency": filters.currency,
        "from": filters.since,
        "to": filters.to,
    }
    try:
        parsed = selectors.parse_filters(run, params)
    except FilterError as exc:
        detail = [{"type": "value_error", "loc": ["query", exc.field], "msg": str(exc)}]
        return Status(422, {"detail": detail})
    return {
        "run": run,
        "tier": parsed.tier,
        "plan": parsed.plan,
        "currency": parsed.currency,
        "rows": charts.DATASETS[name](run, parsed),
    }


@router.get(
    "/analytics/runs",
    response={200: list[RunOut], **ERRORS},
    summary="Recompute runs, newest first",
)
def list_runs(request):
    return selectors.runs()


def _endpoint(name: str, path: str, summary: str):
    def view(request, filters: Query[FiltersIn]):
        return _dataset(name, request, filters)

    view.__name__ = f"analytics_{name}"
    router.get(path, response={200: DatasetOut, **ERRORS}, summary=summary)(view)


for _name, _path, _summary in (
    ("monthly", "/analytics/summary", "Customers, revenue, ARPU, MRR, churn, GRR and NRR by month"),
    ("movements", "/analytics/movements", "MRR movements by month"),
    ("arpu", "/analytics/arpu", "ARPU and ARPPU by segment tier and month"),
    ("cohorts", "/analytics/cohorts", "Retention by sign-up month and age"),
    ("retention", "/analytics/retention", "sBG retention projection"),
    ("products", "/analytics/products", "Products held at the last month end, ranked"),
    ("funnel", "/analytics/funnel", "Conversion between the seven circles"),
    ("trials", "/analytics/trials", "Trial-to-paid conversion by month"),
    ("lift", "/analytics/lift", "Campaign lift against control groups"),
):
    _endpoint(_name, _path, _summary)
