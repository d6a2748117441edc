"""Property-based testing of the engagement endpoints as an authenticated client: no
request, however odd, produces a 500 or a response outside the documented schema."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from ringup.apikeys import services as apikeys
from ringup.apikeys.models import ApiKey
from ringup.config.wsgi import application

from .conftest import NOW

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).include(
    path_regex=r"^/api/v1/(tasks|banners|customers/\{customer_id\}/(timeline|related))"
)


@pytest.fixture
def token(staff, customer):
    # The WSGI handler closes connections after each request; keep the test's own.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield apikeys.issue(ApiKey(name="fuzz", owner=staff("fuzzer")), at=NOW)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_engagement_api_conforms_to_its_schema(case, token):
    # A schema-valid body may still name a customer that does not exist: a documented 422.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"}, excluded_checks=[positive_data_acceptance]
    )
