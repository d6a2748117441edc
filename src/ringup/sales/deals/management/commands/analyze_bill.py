"""``ringup analyze-bill``: a prospect's call records as a usage profile, re-rated on our
retail deck and compared with what they pay now (``deals.services.bills``).

``monthly_saving`` is the engine's comparison (``engine.bills.saving``) of the current
cost — the file's ``--cost-column`` plus ``--line-rental`` and ``--fixed-fees`` a month —
with the same calls re-rated on ``RINGUP_RETAIL_DECK`` plus, with ``--plan``, that plan's
monthly fee for ``--employees`` (the quote engine's monthly total). It is ``null`` when
no current cost is known (no ``--cost-column``). Bad input exits with status 2 and one
line on stderr.
"""

import json
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from ringup.engine.pricing import SelectionError
from ringup.engine.rating import DeckError

from ...services.bills import FORMATS, CurrentTariff, analyse_cdrs, offer_price
from ...services.deals import DealRefused

USAGE_ERROR = 2
KEYS = (
    "calls",
    "answered",
    "minutes",
    "acd_seconds",
    "asr",
    "peak_concurrent_calls",
    "busiest_hour",
    "peak_month",
    "lowest_month",
    "by_category",
    "by_month",
)


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"not an amount: {text!r}")
    return value


class Command(BaseCommand):
    help = (
        "Analyse a prospect's call records: calls, ACD, ASR, peak concurrent calls, minutes "
        "by destination type and month, and the monthly saving on our retail deck and plan."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cdrs", required=True, help="the prospect's CDR file")
        parser.add_argument("--format", choices=FORMATS, default="generic", help="CDR layout")
        parser.add_argument("--country", default="RU", help="the prospect's country (ISO code)")
        parser.add_argument(
            "--home-area", help="digits of a number in the office's area, e.g. 7495"
        )
        parser.add_argument("--cost-column", help="the file's column with each call's cost now")
        parser.add_argument("--line-rental", type=_amount, default=Decimal(0), help="a month, now")
        parser.add_argument("--fixed-fees", type=_amount, default=Decimal(0), help="a month, now")
        parser.add_argument("--plan", help="our plan to compare with (catalog code)")
        parser.add_argument("--employees", type=int, help="employees on --plan")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args, **options):
        if options["employees"] is not None and not options["plan"]:
            raise _usage_error("--employees needs --plan")
        try:
            offer = offer_price(plan=options["plan"], employees=options["employees"])
            analysis = analyse_cdrs(
                options["cdrs"],
                format=options["format"],
                country=options["country"].upper(),
                home_area=options["home_area"],
                tariff=CurrentTariff(
                    line_rental=options["line_rental"],
                    fixed_fees=options["fixed_fees"],
                    cost_column=options["cost_column"],
                ),
                offer=offer,
            )
        except (DealRefused, SelectionError) as refused:
            raise _usage_error(
                "; ".join(f"{field}: {message}" for field, message in refused.errors.items())
            ) from None
        except (DeckError, OSError) as error:
            raise _usage_error(str(error)) from None
        result = _result(analysis)
        if options["json"]:
            self.stdout.write(json.dumps(result, default=str))
        else:
            self.stdout.write(_text(result))


def _result(analysis: dict) -> dict:
    profile = analysis["profile"]
    saving = analysis["saving"]
    return {
        **{key: profile[key] for key in KEYS},
        "rerated_cost": str(analysis["rerating"]["cost"]),
        "plan": analysis["plan"],
        "plan_monthly_fee": analysis["plan_monthly_fee"],
        "monthly_saving": saving["average"] if saving else None,
        "saving": saving,
    }


def _text(result: dict) -> str:
    lines = [
        f"calls {result['calls']}, answered {result['answered']}, minutes {result['minutes']}",
        f"ACD {result['acd_seconds']} s, ASR {result['asr']}, "
        f"peak concurrent calls {result['peak_concurrent_calls']}",
    ]
    for category, usage in result["by_category"].items():
        lines.append(f"  {category:<14} {usage['minutes']:>12} min")
    saving = result["monthly_saving"]
    lines.append(f"monthly saving: {saving if saving is not None else 'unknown (no current cost)'}")
    return "\n".join(lines)


def _usage_error(message: str) -> CommandError:
    return CommandError(" ".join(message.split()), returncode=USAGE_ERROR)
