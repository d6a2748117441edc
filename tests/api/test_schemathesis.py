"""Property-based API testing against our own OpenAPI document: no request, however odd,
produces a 500 or a response that breaks the documented schema."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from ringup.config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes database connections after each request; in a test that
    would close the test's own transaction, so do what Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case, catalog, keep_test_connection):
    # A schema-valid body may still name a plan the catalog does not have; that is a
    # documented 422, not a rejected valid request.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
