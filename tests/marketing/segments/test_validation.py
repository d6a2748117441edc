"""Bad conditions are refused with the JSON path of every error."""

import pytest

from ringup.marketing.segments.conditions import ConditionError, describe, validate


def errors_of(conditions) -> dict[str, str]:
    with pytest.raises(ConditionError) as caught:
        validate(conditions)
    return caught.value.errors


def test_valid_tree_passes():
    validate(
        {
            "all": [
                {"field": "tier", "op": "in", "value": ["smb"]},
                {"not": {"field": "has_option", "op": "eq", "value": "call-recording"}},
                {
                    "any": [
                        {
                            "field": "revenue",
                            "op": "gte",
                            "value": {"months": 12, "amount": "10000.00"},
                        }
                    ]
                },
            ]
        }
    )


@pytest.mark.parametrize(
    ("conditions", "path", "words"),
    [
        (
            {
                "all": [
                    {"field": "tier", "op": "in", "value": ["smb"]},
                    {"field": "height", "op": "in", "value": [1]},
                ]
            },
            "conditions.all.1.field",
            "unknown field 'height'",
        ),
        (
            {"all": [{"field": "tier", "op": "gte", "value": ["smb"]}]},
            "conditions.all.0.op",
            "tier takes in",
        ),
        (
            {"any": [{"field": "tier", "op": "in", "value": "smb"}]},
            "conditions.any.0.value",
            "expected a non-empty list",
        ),
        (
            {"any": [{"field": "tier", "op": "in", "value": ["smb", "huge"]}]},
            "conditions.any.0.value.1",
            "unknown value 'huge'",
        ),
        (
            {"not": {"field": "revenue", "op": "gte", "value": {"months": 3, "amount": 10.5}}},
            "conditions.not.value.amount",
            "decimal string",
        ),
        (
            {"all": [{"field": "revenue", "op": "gte", "value": {"months": 0, "amount": "1"}}]},
            "conditions.all.0.value.months",
            "from 1 to",
        ),
        (
            {"all": [{"field": "revenue", "op": "lte", "value": {"amount": "1"}}]},
            "conditions.all.0.value.months",
            "missing",
        ),
        (
            {"all": [{"field": "email_verified", "op": "is", "value": "yes"}]},
            "conditions.all.0.value",
            "true or false",
        ),
        (
            {"all": [{"field": "registered_days_ago", "op": "gt", "value": True}]},
            "conditions.all.0.value",
            "whole number",
        ),
        ({"all": [{"field": "tier", "op": "in"}]}, "conditions.all.0.value", "missing"),
        (
            {"all": [{"field": "revenue", "op": "gte", "value": {"months": 1, "amount": "1E+40"}}]},
            "conditions.all.0.value.amount",
            "at most",
        ),
        (
            {"all": [{"field": "tier", "op": "in", "value": ["smb"], "x": 1}]},
            "conditions.all.0.x",
            "unknown key",
        ),
        ({"all": {"field": "tier"}}, "conditions.all", "list"),
        ({"all": [], "any": []}, "conditions", "exactly one key"),
        ([1, 2], "conditions", "expected an object"),
        (
            {"all": [{"field": "referral_count", "op": "eq", "value": 3}]},
            "conditions.all.0.op",
            "referral_count takes gte, lte",
        ),
    ],
)
def test_error_names_the_path(conditions, path, words):
    errors = errors_of(conditions)
    assert path in errors, errors
    assert words in errors[path]


def test_every_error_is_reported():
    errors = errors_of(
        {
            "all": [
                {"field": "nope", "op": "in", "value": []},
                {"field": "tier", "op": "bad", "value": []},
            ]
        }
    )
    assert set(errors) == {"conditions.all.0.field", "conditions.all.1.op"}


def test_too_deep_is_refused():
    tree = {"field": "tier", "op": "in", "value": ["smb"]}
    for _ in range(30):
        tree = {"not": tree}
    assert "nested too deeply" in str(errors_of(tree))


def test_describe_reads_like_a_sentence():
    text = describe(
        {
            "all": [
                {"field": "tier", "op": "in", "value": ["smb", "enterprise"]},
                {
                    "any": [
                        {
                            "field": "revenue",
                            "op": "gte",
                            "value": {"months": 12, "amount": "10000"},
                        },
                        {"field": "last_call_days", "op": "gt", "value": 30},
                    ]
                },
                {"not": {"field": "has_option", "op": "eq", "value": "call-recording"}},
            ]
        }
    )
    assert text == (
        "Segment tier is one of smb, enterprise AND (Invoiced at least 10000 in the last 12 "
        "months OR Last call more than 30 days ago) AND NOT (Has option call-recording)"
    )
