"""Campaign lift for the dashboard: each mailing's and promotion's report against its
held-out group, as the marketing apps compute it (ringup.marketing.outcomes)."""

from ringup.marketing import outcomes
from ringup.marketing.mailings import selectors as mailings
from ringup.marketing.mailings.models import Mailing
from ringup.marketing.promotions import selectors as promotions
from ringup.marketing.promotions.models import Promotion

from ..models import CampaignLift, RecomputeRun


def campaign_lifts(run: RecomputeRun) -> list[CampaignLift]:
    """One row per mailing that was sent and per promotion with a control group."""
    rows = []
    sent = Mailing.objects.filter(runs__isnull=False).distinct().order_by("name")
    for mailing in sent:
        rows.append(_row(run, CampaignLift.Kind.MAILING, mailing, mailings.lift_report(mailing)))
    for promotion in Promotion.objects.filter(holdout_percent__gt=0).order_by("name"):
        rows.append(
            _row(run, CampaignLift.Kind.PROMOTION, promotion, promotions.lift_report(promotion))
        )
    return rows


def _row(run, kind, campaign, report: dict) -> CampaignLift:
    return CampaignLift(
        run=run,
        kind=kind,
        campaign_id=campaign.pk,
        name=campaign.name[:200],
        report=report,
        summary=outcomes.describe(report)[:300],
    )
