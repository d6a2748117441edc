"""A prospect's deal on the demo catalog at fixed instants, staff users and small call
files in the three formats.

Moscow is UTC+3 all year: 1 June 2025 12:00 UTC is 15:00 in Moscow, the same day.
"""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ringup.sales.deals.services.deals import NewContact, NewDeal, create_deal

from ...events.conftest import redis_broker, start_worker  # noqa: F401 (fixtures)

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)

# Four calls from a Moscow office in March and April 2025 (worked through in test_bills):
#   c1 local Moscow, 61 s        c2 mobile, 125 s (overlaps c1: 09:00:30 < 09:01:01)
#   c3 St Petersburg, unanswered c4 St Petersburg, 300 s
GENERIC = """id,account,src,dst,start,duration,cost
c1,acc,74951230001,74957654321,2025-03-03T09:00:00,61,2.40
c2,acc,74951230001,79161234567,2025-03-03T09:00:30,125,8.70
c3,acc,74951230002,78121234567,2025-04-03T10:00:00,0,0
c4,acc,74951230002,78127654321,2025-04-05T11:00:00,300,17.50
"""

ASTERISK = (
    '"acc","74951230001","74957654321","from-internal","""Office"" <101>","SIP/101-1",'
    '"SIP/trunk-2","Dial","SIP/trunk/74957654321","2025-03-03 09:00:00",'
    '"2025-03-03 09:00:05","2025-03-03 09:01:06",66,61,"ANSWERED","DOCUMENTATION"\n'
    '"acc","74951230001","79161234567","from-internal","""Office"" <101>","SIP/101-3",'
    '"SIP/trunk-4","Dial","SIP/trunk/79161234567","2025-03-03 09:00:30",'
    '"2025-03-03 09:00:40","2025-03-03 09:02:45",135,125,"ANSWERED","DOCUMENTATION"\n'
    '"acc","74951230002","78121234567","from-internal","""Office"" <102>","SIP/102-5",'
    '"SIP/trunk-6","Dial","SIP/trunk/78121234567","2025-04-03 10:00:00","",'
    '"2025-04-03 10:00:20",20,0,"NO ANSWER","DOCUMENTATION"\n'
)

FREESWITCH = (
    '"Office","74951230001","74957654321","default","2025-03-03 09:00:00",'
    '"2025-03-03 09:00:05","2025-03-03 09:01:06","66","61","NORMAL_CLEARING",'
    '"a1b2c3d4-0000-0000-0000-000000000001","","acc","PCMA","PCMA"\n'
    '"Office","74951230001","79161234567","default","2025-03-03 09:00:30",'
    '"2025-03-03 09:00:40","2025-03-03 09:02:45","135","125","NORMAL_CLEARING",'
    '"a1b2c3d4-0000-0000-0000-000000000002","","acc","PCMA","PCMA"\n'
)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    """Uploaded call records go under the test's own directory."""
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def staff(django_user_model):
    def make(username="manager"):
        return django_user_model.objects.create_user(
            username, f"{username}@operator.example", "pw-12345!", is_staff=True
        )

    return make


@pytest.fixture
def make_deal(catalog):
    def make(company="Mercury Insurance", *, owner=None, language="en", **fields):
        fields.setdefault("employees", 10)
        fields.setdefault("lines", 4)
        return create_deal(
            NewDeal(
                company=company,
                language=language,
                owner_id=owner.pk if owner else None,
                contacts=(NewContact("Irina Volkova", "CFO", "cfo@mercury.example"),),
                **fields,
            ),
            at=NOW,
        )

    return make


@pytest.fixture
def cdr_file(tmp_path):
    def write(text: str = GENERIC, name: str = "cdrs.csv"):
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


def analysed_bill(deal, *, at):
    """Upload :data:`GENERIC` as the deal's bill (a Moscow office paying its ``cost``
    column and 6,000 a month of line rental) and analyse it, as the worker would."""
    from ringup.sales.deals.services import bills

    path = Path(bills.bills_dir()) / "in.csv"
    path.write_text(GENERIC)
    with path.open("rb") as handle:
        bills.upload_cdrs(
            deal,
            handle,
            file_name="in.csv",
            format="generic",
            country="RU",
            home_area="7495",
            tariff=bills.CurrentTariff(cost_column="cost", line_rental=Decimal(6000)),
            at=at,
        )
    bills.analyse_pending(at=at)
