"""Deployment advice: the score, the recommendation and one reason per answer."""

import pytest

from ringup.engine.deployment import (
    DECISIVE,
    WEIGHTS,
    Budget,
    DeploymentAnswers,
    DeploymentError,
    Integrations,
    Level,
    Recommendation,
    advise_deployment,
    scaled_score,
)


def answers(**changes: object) -> DeploymentAnswers:
    neutral: dict[str, object] = {
        "control": Level.MEDIUM,
        "budget": Budget.EITHER,
        "growth": Level.LOW,
        "remote_staff": Level.LOW,
        "sites": 1,
        "it_capacity": Level.MEDIUM,
        "integrations": Integrations.NONE,
        "recurring_revenue": Level.LOW,
    }
    neutral.update(changes)
    return DeploymentAnswers(**neutral)  # type: ignore[arg-type]


def test_every_answer_for_the_cloud_scores_plus_100():
    # 10 + 15 + 15 + 10 + 10 (4 sites) + 15 + 10 + 5 = 90 points = the most for cloud.
    advice = advise_deployment(
        answers(
            control=Level.LOW,
            budget=Budget.OPEX,
            growth=Level.HIGH,
            remote_staff=Level.HIGH,
            sites=4,
            it_capacity=Level.LOW,
            integrations=Integrations.CLOUD_APPS,
            recurring_revenue=Level.HIGH,
        )
    )
    assert (advice.score, advice.recommendation) == (100, Recommendation.CLOUD)
    assert sum(r.points for r in advice.reasons) == 90
    sites = next(r for r in advice.reasons if r.question == "sites")
    assert sites.params == {"sites": 4}
    assert sites.text() == "4 sites share one cloud PBX without a box and a trunk at each."


def test_every_answer_for_on_premise_scores_minus_100():
    # −20 − 15 − 5 − 15 − 10 = −65 points = the most for on-premise.
    advice = advise_deployment(
        answers(
            control=Level.HIGH,
            budget=Budget.CAPEX,
            it_capacity=Level.HIGH,
            integrations=Integrations.ON_PREMISE_SYSTEMS,
        )
    )
    assert (advice.score, advice.recommendation) == (-100, Recommendation.ON_PREMISE)
    # The weightiest reason comes first: the need for control (−20).
    assert (advice.reasons[0].question, advice.reasons[0].points) == ("control", -20)
    assert len(advice.reasons) == len(WEIGHTS)


def test_a_close_call_is_either_with_the_reasons_to_weigh():
    # Control −20, opex +15, fast growth +15: 10 points → 100 × 10 / 90 = 11.1 → 11 < 20.
    advice = advise_deployment(answers(control=Level.HIGH, budget=Budget.OPEX, growth=Level.HIGH))
    assert (advice.score, advice.recommendation) == (11, Recommendation.EITHER)


def test_the_decisive_boundary():
    # 18 cloud points: 100 × 18 / 90 = 20 → cloud; 17: 18.9 → 19 → either.
    # −13 points: 100 × 13 / 65 = 20 → on-premise.
    assert scaled_score(18) == DECISIVE
    assert scaled_score(17) == 19
    assert scaled_score(-13) == -DECISIVE
    growth_and_opex = answers(growth=Level.MEDIUM, budget=Budget.OPEX)  # 8 + 15 = 23 → 26
    assert advise_deployment(growth_and_opex).recommendation is Recommendation.CLOUD
    stable = answers(growth=Level.LOW, it_capacity=Level.HIGH)  # −5 − 15 = −20 → −31
    assert advise_deployment(stable).recommendation is Recommendation.ON_PREMISE


def test_bad_answers_name_their_fields():
    with pytest.raises(DeploymentError) as error:
        advise_deployment(answers(sites=0, control="total"))
    assert set(error.value.errors) == {"sites", "control"}
