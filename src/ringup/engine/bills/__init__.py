"""Bill analysis: a prospect's call records into a usage profile, re-rated on our deck and
compared with what they pay now.

::

    records = call_records(read_cdrs("Master.csv", "asterisk"), "asterisk", home_country="RU")
    usage = profile(records)                     # calls, ACD, ASR, channels, categories …
    ours = our_costs(rerate(records, deck), OurPrice(Decimal("1640.00"), included_minutes=500))
    result = saving(current_costs_from_rates(usage, rates), ours)

Definitions and worked examples: docs/sales-formulas.md.
"""

from .categories import CATEGORY_DIGITS, Category
from .profile import Profile, Usage, as_minutes, peak_concurrency, profile
from .records import (
    SHORT_CALL_SECONDS,
    BillAnalysisError,
    CallRecords,
    call_records,
    check_call_records,
    read_call_records,
)
from .saving import (
    MonthCost,
    MonthlySummary,
    MonthSaving,
    OurPrice,
    RatedMonth,
    Rerating,
    Saving,
    category_rates,
    current_costs_from_file,
    current_costs_from_rates,
    current_costs_from_summary,
    our_costs,
    our_costs_from_summary,
    rerate,
    saving,
)

__all__ = [
    "CATEGORY_DIGITS",
    "SHORT_CALL_SECONDS",
    "BillAnalysisError",
    "CallRecords",
    "Category",
    "MonthCost",
    "MonthSaving",
    "MonthlySummary",
    "OurPrice",
    "Profile",
    "RatedMonth",
    "Rerating",
    "Saving",
    "Usage",
    "as_minutes",
    "call_records",
    "category_rates",
    "check_call_records",
    "current_costs_from_file",
    "current_costs_from_rates",
    "current_costs_from_summary",
    "our_costs",
    "our_costs_from_summary",
    "peak_concurrency",
    "profile",
    "read_call_records",
    "rerate",
    "saving",
]
