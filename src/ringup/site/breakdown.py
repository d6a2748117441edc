"""A priced quote as the pages and the PDF show it: recurring and one-time lines apart,
discounts marked, amounts as Decimals whatever the source (a fresh price or a saved quote,
whose lines are stored as JSON strings)."""

from dataclasses import asdict, dataclass
from decimal import Decimal

from ringup.catalog.models import Quote
from ringup.engine import pricing


@dataclass(frozen=True)
class Row:
    description: str
    quantity: int
    unit_amount: Decimal
    amount: Decimal

    @property
    def is_discount(self) -> bool:
        return self.amount < 0


@dataclass(frozen=True)
class Breakdown:
    currency: str
    period: str
    employees: int
    recurring: tuple[Row, ...]
    one_time: tuple[Row, ...]
    monthly_total: Decimal
    one_time_total: Decimal
    period_total: Decimal
    per_employee_total: Decimal

    @property
    def is_annual(self) -> bool:
        return self.period == pricing.Period.ANNUAL

    @property
    def months(self) -> int:
        return pricing.Period(self.period).months

    @classmethod
    def of(cls, quote: pricing.Quote | Quote) -> "Breakdown":
        lines = [line if isinstance(line, dict) else asdict(line) for line in quote.lines]
        rows = {kind: [] for kind in pricing.LineKind}
        for line in lines:
            rows[pricing.LineKind(line["kind"])].append(
                Row(
                    description=line["description"],
                    quantity=int(line["quantity"]),
                    unit_amount=Decimal(line["unit_amount"]),
                    amount=Decimal(line["amount"]),
                )
            )
        return cls(
            currency=quote.currency,
            period=str(quote.period),
            employees=quote.employees,
            recurring=tuple(rows[pricing.LineKind.RECURRING]),
            one_time=tuple(rows[pricing.LineKind.ONE_TIME]),
            monthly_total=Decimal(quote.monthly_total),
            one_time_total=Decimal(quote.one_time_total),
            period_total=Decimal(quote.period_total),
            per_employee_total=Decimal(quote.per_employee_total),
        )
