"""The pricing owner's alert: one event, one task and one e-mail per version, whatever
the windows computed and however often."""

from django.core import mail

from ringup.events.models import Event
from ringup.events.services import dispatch
from ringup.sales.margins.models import MarginAlert
from ringup.sales.margins.services import BELOW_TARGET, compute_impact
from ringup.usage.services import configured_decks

from .conftest import NOW


def test_a_version_below_target_alerts_the_pricing_owner_exactly_once(
    versions, traffic, staff, settings
):
    settings.RINGUP_PRICING_OWNER = "pricing@operator.example"
    owner = staff()
    _, v2 = versions
    retail = configured_decks().retail
    for days in (30, 90, 30):
        compute_impact(v2, days=days, at=NOW, retail=retail)
        dispatch(at=NOW)
    assert Event.objects.filter(kind=BELOW_TARGET).count() == 1
    alert = MarginAlert.objects.get()
    assert (alert.version, alert.assignee, alert.status) == (v2, owner, "open")
    assert "Russia mobile: 55.3 % → 15.8 %, restoring rate 2.29" in alert.summary
    [message] = mail.outbox
    assert message.to == ["pricing@operator.example"]
    assert "Transit" in message.subject
    assert f"/admin/margins/carrierdeckversion/{v2.pk}/impact/?days=30" in message.body
    assert "Russia mobile (79): 55.3 % → 15.8 %" in message.body


def test_no_alert_when_nothing_falls_below_target(versions, traffic):
    v1, _ = versions
    compute_impact(v1, days=30, at=NOW, retail=configured_decks().retail)
    dispatch(at=NOW)
    assert not Event.objects.filter(kind=BELOW_TARGET).exists()
    assert not MarginAlert.objects.exists()


def test_without_a_pricing_owner_the_task_is_unassigned_and_no_mail_goes(versions, traffic):
    _, v2 = versions
    compute_impact(v2, days=30, at=NOW, retail=configured_decks().retail)
    dispatch(at=NOW)
    alert = MarginAlert.objects.get()
    assert alert.assignee is None and alert.mailed_to == ""
    assert mail.outbox == []
