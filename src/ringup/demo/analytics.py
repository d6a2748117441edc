"""The demo operator's revenue analytics: the stored aggregates of the generated history,
so the dashboard, the API and the monthly report show figures on a fresh installation."""

from datetime import date, datetime

from ringup.analytics.services.recompute import recompute


def load_analytics(*, until: date, at: datetime) -> str:
    """Recompute the aggregates of the history before ``until``; returns a line to print."""
    run = recompute(at=at, until=until)
    return (
        f"Revenue analytics: {run.customers:,} customers recomputed in "
        f"{run.duration.total_seconds():.1f} s; /admin/analytics/dashboard/"
    )
