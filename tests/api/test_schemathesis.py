"""Property-based API testing against our own OpenAPI document: no request, however odd,
produces a 500 or a response that breaks the documented schema."""

import schemathesis
from hypothesis import HealthCheck, settings

from schemathesis.checks import positive_data_acceptance

from ringup.config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case, catalog):
    # A schema-valid body may still name a plan the catalog does not have; that is a
    # documented 422, not a rejected valid request.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
