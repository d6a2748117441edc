"""The demo operator's engagement: portal banners (one for the segment on the cheapest
plan, a time-limited annual offer, help banners in English and Russian), a sales
manager's follow-up tasks (a "no, not now" asked again in 3 and 6 months, an overdue call)
and one run of the daily follow-up rules. Running it again adds nothing."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ringup.billing.models import Subscription
from ringup.customers.models import Customer
from ringup.marketing.engagement.models import Banner, FollowUpTask
from ringup.marketing.engagement.services.rules import run_daily
from ringup.marketing.engagement.services.tasks import RuleTask, complete_task, task_from_rule
from ringup.marketing.segments.models import Segment

CHEAPEST = "On the cheapest plan"
WITHOUT_RECORDING = "Office PBX without call recording"


@dataclass(frozen=True)
class EngagementDemo:
    banners: int
    tasks: int
    daily: dict

    @property
    def message(self) -> str:
        return (
            f"Engagement: {self.banners} portal banners, {self.tasks} follow-up tasks; "
            f"daily rules: {self.daily['calls_dropped']} calls-dropped tasks, "
            f"{self.daily['inactive']} customer.inactive events."
        )


def _segments() -> dict[str, Segment]:
    wanted = {
        CHEAPEST: (
            "Customers on the Virtual number plan: offered Office PBX.",
            {"all": [{"field": "plan", "op": "in", "value": ["virtual-number"]}]},
        ),
        WITHOUT_RECORDING: (
            "Office PBX customers who have not added call recording.",
            {
                "all": [
                    {"field": "plan", "op": "in", "value": ["office-pbx"]},
                    {"field": "lacks_option", "op": "in", "value": ["call-recording"]},
                ]
            },
        ),
    }
    return {
        name: Segment.objects.get_or_create(
            name=name, defaults={"description": text, "conditions": conditions}
        )[0]
        for name, (text, conditions) in wanted.items()
    }


def _banners(at: datetime, segments: dict[str, Segment]) -> int:
    specs = [
        {
            "title": "Growing past 4 people? Try Office PBX",
            "text": "Extensions for everyone, a voice menu and call reports. Switch in one click.",
            "label": "See the price",
            "link": Banner.Link.PLAN,
            "target": "office-pbx",
            "segment": segments[CHEAPEST],
            "weight": 3,
        },
        {
            "title": "Record every call",
            "text": "Settle disputes and train new staff with a recording of each call.",
            "label": "Add it",
            "link": Banner.Link.OPTION,
            "target": "call-recording",
            "segment": segments[WITHOUT_RECORDING],
            "weight": 3,
        },
        {
            "title": "Pay a year ahead, save",
            "text": "Annual prepayment costs less than twelve months: this month only.",
            "label": "Buy annual",
            "link": Banner.Link.BUY,
            "target": "office-pbx",
            "query": "period=annual",
            "starts_at": at - timedelta(days=7),
            "ends_at": at + timedelta(days=60),
            "weight": 2,
        },
        {
            "title": "Set up a softphone in five minutes",
            "text": "Zoiper, MicroSIP or Linphone on your computer or phone.",
            "label": "Read the guide",
            "link": Banner.Link.HELP,
            "target": "softphone",
            "language": "en",
        },
        {
            "title": "Софтфон за пять минут",
            "text": "Zoiper, MicroSIP или Linphone на компьютере и смартфоне.",
            "label": "Читать",
            "link": Banner.Link.HELP,
            "target": "softphone",
            "language": "ru",
        },
    ]
    for spec in specs:
        Banner.objects.update_or_create(title=spec["title"], defaults=spec)
    return len(specs)


def _tasks(at: datetime) -> None:
    manager = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    manager_id = manager.pk if manager else None
    today = timezone.localdate(at)
    micro = (
        Subscription.objects.filter(plan__code="virtual-number", status="active")
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
        .first()
    )
    if micro is not None:
        said_no = task_from_rule(
            RuleTask(
                customer_id=micro,
                key=f"demo:offer-office-pbx:{micro}",
                reason=FollowUpTask.Reason.MANUAL,
                title="Offer Office PBX with 10 % off the first 3 months",
                due_on=today - timedelta(days=30),
                assignee_id=manager_id,
            ),
            at=at - timedelta(days=35),
        )
        if said_no is not None:
            complete_task(said_no, at=at - timedelta(days=30), outcome=FollowUpTask.Outcome.NOT_NOW)
    portal = Customer.objects.filter(user__isnull=False).order_by("pk").first()
    if portal is not None:
        task_from_rule(
            RuleTask(
                customer_id=portal.pk,
                key=f"demo:offer-crm:{portal.pk}",
                reason=FollowUpTask.Reason.MANUAL,
                title="Offer CRM integration (asked about call pop-ups)",
                due_on=today - timedelta(days=2),
                assignee_id=manager_id,
            ),
            at=at - timedelta(days=9),
        )


@transaction.atomic
def load_engagement(*, at: datetime | None = None) -> EngagementDemo:
    """Banners, follow-up tasks and one run of the daily rules at ``at`` (default: now).
    The manager is the first superuser, so load it after the back-office login exists."""
    at = at or timezone.now()
    banners = _banners(at, _segments())
    _tasks(at)
    daily = run_daily(at)
    return EngagementDemo(banners=banners, tasks=FollowUpTask.objects.count(), daily=daily)
