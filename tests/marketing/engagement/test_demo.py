"""The demo's engagement: banners the demo customers see, tasks, rules; loaded twice,
nothing doubles."""

from datetime import date, timedelta

from ringup.marketing.engagement.models import Banner, FollowUpTask
from ringup.marketing.engagement.selectors import banners_for
from ringup.marketing.segments.conditions import validate
from ringup.marketing.segments.models import Segment

from .conftest import NOW


def test_load_engagement_twice(make_customer, subscribe, staff, django_user_model):
    from ringup.demo.engagement import load_engagement

    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw-1234!")
    micro = make_customer("Micro", language="ru")
    subscribe(micro, "virtual-number", employees=1)
    office = make_customer("Office", language="en")
    subscribe(office)
    office.user = staff("portal-login")
    office.save()

    first = load_engagement(at=NOW)
    again = load_engagement(at=NOW)

    assert (first.banners, Banner.objects.count()) == (5, 5)
    assert again.tasks == first.tasks == FollowUpTask.objects.count() == 4
    for segment in Segment.objects.all():
        validate(segment.conditions)
    assert {b.title for b in banners_for(micro, at=NOW, limit=5)} == {
        "Growing past 4 people? Try Office PBX",
        "Pay a year ahead, save",
        "Софтфон за пять минут",
    }
    assert "Record every call" in {b.title for b in banners_for(office, at=NOW, limit=5)}
    asked_again = FollowUpTask.objects.filter(reason="said_no", customer=micro).order_by("due_on")
    said_on = (NOW - timedelta(days=30)).date()
    assert [t.due_on for t in asked_again] == [date(2025, 8, 2), date(2025, 11, 2)]
    assert said_on == date(2025, 5, 2)
    assert all(t.assignee == admin for t in FollowUpTask.objects.all())
    assert "5 portal banners, 4 follow-up tasks" in first.message
