"""Call rating: rate decks, CDR files, destination normalisation and exact call costs.

The pure, vectorised engine behind ``ringup rate``, the CDR import and the bill analysis::

    deck = load_deck("retail.csv")
    calls = read_cdrs("Master.csv", "asterisk")
    rated = rate(calls, deck, format="asterisk", numbering=Numbering(country="RU"))

    summary = rate_file("cdrs.csv", deck, "rated.csv", "rated.unrated.csv")  # streams

No Python loop runs per call: numbers, durations and costs are whole-column NumPy/Polars
operations, and files stream through in batches, so memory does not grow with the input
(apart from 8 bytes per call for exact duplicate-id detection, see ``duplicates``).
"""

from .cdrs import (
    ASTERISK,
    FORMATS,
    FREESWITCH,
    GENERIC,
    CdrFileError,
    CdrFormat,
    cdr_format,
    read_cdrs,
    scan_cdrs,
)
from .charges import MAX_DURATION, billed_seconds, cost_micros
from .deck import MONEY, DeckEntry, DeckError, RateDeck, deck_from_frame, load_deck
from .duplicates import IdLedger
from .files import RatingSummary, rate_file, unrated_path_for
from .numbers import Numbering, NumberingError, normalise
from .rate import CARRIER_COLUMNS, RATED_COLUMNS, UnratedReason, parse_duration, rate

__all__ = [
    "ASTERISK",
    "CARRIER_COLUMNS",
    "FORMATS",
    "FREESWITCH",
    "GENERIC",
    "MAX_DURATION",
    "MONEY",
    "RATED_COLUMNS",
    "CdrFileError",
    "CdrFormat",
    "DeckEntry",
    "DeckError",
    "IdLedger",
    "Numbering",
    "NumberingError",
    "RateDeck",
    "RatingSummary",
    "UnratedReason",
    "billed_seconds",
    "cdr_format",
    "cost_micros",
    "deck_from_frame",
    "load_deck",
    "normalise",
    "parse_duration",
    "rate",
    "rate_file",
    "read_cdrs",
    "scan_cdrs",
    "unrated_path_for",
]
