"""Back office: the manager's queue with its actions, the customer's timeline page, the
banner and task lists."""

from datetime import date

import pytest

from ringup.marketing.engagement.models import Banner, FollowUpTask
from ringup.marketing.engagement.services.banners import show_banners
from ringup.marketing.engagement.services.tasks import create_task

from .conftest import NOW

QUEUE = "/admin/engagement/followuptask/queue/"


@pytest.fixture
def manager(staff):
    user = staff("manager")
    user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def back_office(client, manager):
    client.force_login(manager)
    return client


def test_the_queue_lists_mine_and_unassigned_overdue_first(
    back_office, customer, manager, staff, frozen
):
    other = staff("other")
    create_task(customer.pk, title="Later", due_on=date(2025, 6, 9), at=NOW, assignee_id=manager.pk)
    create_task(customer.pk, title="Overdue", due_on=date(2025, 5, 20), at=NOW)
    create_task(
        customer.pk, title="Not mine", due_on=date(2025, 5, 1), at=NOW, assignee_id=other.pk
    )
    page = back_office.get(QUEUE)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("Overdue") < html.index("Later")
    assert "Not mine" not in html
    assert "<strong>overdue</strong> 2025-05-20" in html


def test_queue_actions(back_office, customer, manager, frozen):
    task = create_task(customer.pk, title="Call", due_on=date(2025, 6, 1), at=NOW)
    action = f"{QUEUE}{task.pk}/"
    assert back_office.get(action + "done/").status_code == 405

    assert back_office.post(action + "take/").status_code == 302
    task.refresh_from_db()
    assert task.assignee == manager

    back_office.post(action + "snooze/")
    task.refresh_from_db()
    assert (task.status, task.snoozed_until) == ("snoozed", date(2025, 6, 8))
    assert "Call" not in back_office.get(QUEUE).content.decode()

    back_office.post(action + "not_now/")
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("done", "not_now")
    assert FollowUpTask.objects.filter(reason="said_no", assignee=manager).count() == 2
    assert back_office.post(f"{QUEUE}{task.pk}/explode/").status_code == 404


def test_the_queue_needs_staff(client, customer, django_user_model):
    client.force_login(django_user_model.objects.create_user("c", "c@example.com", "pw-12345!"))
    assert client.get(QUEUE).status_code == 302  # to the admin login


def test_the_customer_page_links_to_the_timeline(back_office, customer):
    create_task(customer.pk, title="Offer CRM", due_on=date(2025, 6, 1), at=NOW)
    change = back_office.get(f"/admin/customers/customer/{customer.pk}/change/")
    link = f"/admin/engagement/followuptask/timeline/{customer.pk}/"
    assert link in change.content.decode()
    page = back_office.get(link)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Subscription started" in html and "Task: Offer CRM" in html
    assert back_office.get("/admin/engagement/followuptask/timeline/999999/").status_code == 404


def test_banner_and_task_lists(back_office, customer):
    Banner.objects.create(title="Record calls", text="x", link="option", target="call-recording")
    show_banners(customer, at=NOW)
    show_banners(customer, at=NOW)
    banners = back_office.get("/admin/engagement/banner/")
    assert banners.status_code == 200
    assert '<td class="field-impressions">2</td>' in banners.content.decode()
    assert back_office.get("/admin/engagement/banner/add/").status_code == 200
    create_task(customer.pk, title="Call", due_on=date(2025, 6, 1), at=NOW)
    assert back_office.get("/admin/engagement/followuptask/").status_code == 200
    added = back_office.post(
        "/admin/engagement/followuptask/add/",
        {
            "customer": customer.pk,
            "title": "By hand",
            "reason": "manual",
            "due_on": "2025-06-03",
            "note": "",
        },
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    made = FollowUpTask.objects.get(title="By hand")
    assert made.created_by is not None and made.created_at is not None
    assert made.status == "open"
