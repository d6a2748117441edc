"""The REST API, /api/v1/, assembled from each app's router."""

from django.db import DataError
from django.http import HttpRequest
from ninja import NinjaAPI

from ringup.billing.api import router as billing_router
from ringup.catalog.api import router as catalog_router
from ringup.engine.advisor import AdviceError
from ringup.engine.pricing import SelectionError
from ringup.site.api import router as signup_router

api = NinjaAPI(
    title="Ringup API",
    version="1",
    description="Catalog, quotes and plan advice. Amounts are decimal strings.",
    urls_namespace="api-v1",
)
api.add_router("", catalog_router)
api.add_router("", billing_router)
api.add_router("", signup_router)
api.add_router("", "ringup.marketing.segments.api.router")
api.add_router("", "ringup.marketing.referrals.api.router")
api.add_router("", "ringup.marketing.mailings.api.router")
api.add_router("", "ringup.marketing.promotions.api.router")
api.add_router("", "ringup.marketing.engagement.api.router")
api.add_router("", "ringup.analytics.api.router")
api.add_router("", "ringup.sales.margins.api.router")
api.add_router("", "ringup.sales.deals.api.router")


def _unprocessable(request: HttpRequest, errors: dict[str, str]):
    # Same shape as django-ninja's own validation errors, so a client parses one format.
    detail = [
        {"type": "value_error", "loc": ["body", *field.split(".")], "msg": message}
        for field, message in errors.items()
    ]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(SelectionError)
def selection_error(request, exc: SelectionError):
    return _unprocessable(request, exc.errors)


@api.exception_handler(AdviceError)
def advice_error(request, exc: AdviceError):
    return _unprocessable(request, {"plan": str(exc)})


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def out_of_range(request, exc: Exception):
    # An id or count beyond what the database stores (SQLite raises OverflowError past
    # 2**63, PostgreSQL a DataError): the client's mistake, answered like any bad field.
    detail = [
        {
            "type": "value_error",
            "loc": ["request"],
            "msg": "a number or text in the request is out of the range the database stores",
        }
    ]
    return api.create_response(request, {"detail": detail}, status=422)
