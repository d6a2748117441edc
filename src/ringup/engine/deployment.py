"""Deployment advice: an on-premise PBX or our cloud PBX, from a customer's answers.

Every rule is data (:data:`WEIGHTS`): for each question, the points each answer gives —
negative towards on-premise, positive towards cloud. The score is the sum of the points
scaled to the largest sum possible on its side: +100 when every answer gives the most it
can to cloud (90 points with these weights), −100 when every answer gives the most it can
to on-premise (65 points), 0 when the points cancel out; rounded half-up. A score of
:data:`DECISIVE` or more either way is a recommendation; between them the advice is
"either", with the reasons to weigh.

Reasons are message ids with parameters (like ``engine.advisor``'s reasons, but
translatable): the English sentence is the gettext msgid, ``params`` fill its
``{placeholders}``, so the Django layer can show it in the customer's language.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class Level(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Budget(StrEnum):
    CAPEX = "capex"  # prefers to buy equipment (capital budget)
    EITHER = "either"
    OPEX = "opex"  # prefers a monthly subscription (operating budget)


class Integrations(StrEnum):
    NONE = "none"
    CLOUD_APPS = "cloud_apps"  # CRM, help desk and the like as online services
    ON_PREMISE_SYSTEMS = "on_premise_systems"  # ERP, legacy systems inside the office


class Recommendation(StrEnum):
    CLOUD = "cloud"
    ON_PREMISE = "on_premise"
    EITHER = "either"


#: A score at least this far from 0 is a recommendation; closer is "either".
DECISIVE = 20


@dataclass(frozen=True, slots=True)
class DeploymentAnswers:
    """The customer's answers (the sales manager's estimate for ``recurring_revenue``)."""

    control: Level  # need for control over the system and where call data is kept
    budget: Budget
    growth: Level  # expected growth of extensions
    remote_staff: Level  # share of staff working remotely or on the road
    sites: int  # offices to connect (1 = one site)
    it_capacity: Level  # in-house IT capacity to run a PBX
    integrations: Integrations
    recurring_revenue: Level  # the account's recurring revenue potential (add-ons, seats)


@dataclass(frozen=True, slots=True)
class Weight:
    """The points one answer gives and the sentence that explains them."""

    points: int
    message: str


def _sites_answer(sites: int) -> str:
    if sites <= 1:
        return "one"
    return "few" if sites <= 3 else "many"


#: question → answer → points and reason.
WEIGHTS: Mapping[str, Mapping[str, Weight]] = {
    "control": {
        "high": Weight(
            -20,
            "You need full control over the system and where call data is kept: "
            "an on-premise PBX keeps both in your hands.",
        ),
        "medium": Weight(0, "A moderate need for control is met by either deployment."),
        "low": Weight(
            10, "Little need for hands-on control: the cloud PBX is run and updated for you."
        ),
    },
    "budget": {
        "capex": Weight(-15, "A capital budget for equipment suits buying an on-premise PBX."),
        "either": Weight(0, "Either budget model works for you."),
        "opex": Weight(
            15, "A monthly operating budget suits a subscription with no upfront purchase."
        ),
    },
    "growth": {
        "high": Weight(
            15,
            "Fast growth in extensions: the cloud PBX adds users in minutes, "
            "with no hardware limits.",
        ),
        "medium": Weight(8, "Some growth in extensions is easier to absorb in the cloud."),
        "low": Weight(-5, "A stable number of extensions fits a PBX sized once."),
    },
    "remote_staff": {
        "high": Weight(
            10, "Many remote staff work from anywhere on the cloud PBX, with the same extensions."
        ),
        "medium": Weight(5, "Some remote staff are simpler to connect through the cloud."),
        "low": Weight(0, "Staff work in the office, so location does not decide."),
    },
    "sites": {
        "many": Weight(10, "{sites} sites share one cloud PBX without a box and a trunk at each."),
        "few": Weight(5, "{sites} sites are simpler to join on one cloud PBX."),
        "one": Weight(0, "One site: the number of offices does not decide."),
    },
    "it_capacity": {
        "high": Weight(-15, "Your strong in-house IT team can run and secure an on-premise PBX."),
        "medium": Weight(0, "Your IT team could run either deployment."),
        "low": Weight(15, "Without in-house IT capacity, a cloud PBX needs no one to maintain it."),
    },
    "integrations": {
        "on_premise_systems": Weight(
            -10, "Integrations with systems inside your office are closest to an on-premise PBX."
        ),
        "cloud_apps": Weight(
            10, "Your business systems are online services with ready cloud connectors."
        ),
        "none": Weight(0, "No integrations are needed, so they do not decide."),
    },
    "recurring_revenue": {
        "high": Weight(
            5, "Add-ons and seats bought as you go suit a subscription that grows with you."
        ),
        "medium": Weight(2, "Options added over time fit a subscription."),
        "low": Weight(0, "Few add-ons are expected, so they do not decide."),
    },
}


@dataclass(frozen=True, slots=True)
class Reason:
    """One answer's contribution: ``message`` (msgid) with ``params``, and its points."""

    question: str
    answer: str
    points: int
    message: str
    params: dict[str, str | int] = field(default_factory=dict)

    def text(self) -> str:
        """The English sentence (the Django layer translates ``message`` first)."""
        return self.message.format(**self.params)

    def to_json(self) -> dict[str, object]:
        return {
            "question": self.question,
            "answer": self.answer,
            "points": self.points,
            "message": self.message,
            "params": dict(self.params),
            "text": self.text(),
        }


@dataclass(frozen=True, slots=True)
class DeploymentAdvice:
    score: int
    recommendation: Recommendation
    reasons: tuple[Reason, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "score": self.score,
            "recommendation": self.recommendation.value,
            "reasons": [reason.to_json() for reason in self.reasons],
        }


class DeploymentError(ValueError):
    """Answers that cannot be scored; ``errors`` maps each bad field to its message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def advise_deployment(answers: DeploymentAnswers) -> DeploymentAdvice:
    """Score ``answers`` with :data:`WEIGHTS`, recommend, and give every reason (the
    weightiest first; answers that do not decide come last with 0 points)."""
    chosen = _answers(answers)
    reasons = []
    for question, answer in chosen.items():
        weight = WEIGHTS[question][answer]
        params: dict[str, str | int] = {"sites": answers.sites} if question == "sites" else {}
        reasons.append(Reason(question, answer, weight.points, weight.message, params))
    score = scaled_score(sum(reason.points for reason in reasons))
    if score >= DECISIVE:
        recommendation = Recommendation.CLOUD
    elif score <= -DECISIVE:
        recommendation = Recommendation.ON_PREMISE
    else:
        recommendation = Recommendation.EITHER
    ordered = sorted(reasons, key=lambda r: -abs(r.points))
    return DeploymentAdvice(score, recommendation, tuple(ordered))


def scaled_score(points: int) -> int:
    """``points`` on the −100 … +100 scale (see the module docstring)."""
    side = max if points > 0 else min
    most = abs(sum(side(w.points for w in answers.values()) for answers in WEIGHTS.values()))
    if not points or not most:
        return 0
    return int((Decimal(100 * points) / most).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _answers(answers: DeploymentAnswers) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not isinstance(answers.sites, int) or answers.sites < 1:
        errors["sites"] = "must be at least 1"
    chosen = {
        "control": str(answers.control),
        "budget": str(answers.budget),
        "growth": str(answers.growth),
        "remote_staff": str(answers.remote_staff),
        "sites": _sites_answer(answers.sites) if "sites" not in errors else "one",
        "it_capacity": str(answers.it_capacity),
        "integrations": str(answers.integrations),
        "recurring_revenue": str(answers.recurring_revenue),
    }
    for question, answer in chosen.items():
        if answer not in WEIGHTS[question]:
            errors[question] = f"one of {', '.join(WEIGHTS[question])}"
    if errors:
        raise DeploymentError(errors)
    return chosen
