"""``ringup rate``: rate a CDR file against a rate deck, offline, into CSV files.

Prints one JSON object on stdout (counts, billed seconds, exact totals). A file that cannot
be used (missing, unreadable, a missing column, a bad deck line, an unknown country) exits
with status 2 and one line on stderr; bad call rows never stop the run — they go to the
unrated file with a reason.

Rating touches neither the database nor the project's models, so ``ringup rate`` runs this
module without starting Django (most of a second, on every file of a day's batch); the
management command (``call_command("rate", …)``) is the same code behind Django's parser.
"""

import argparse
import json
import sys
from pathlib import Path

from ringup.engine.rating import (
    FORMATS,
    CdrFileError,
    DeckError,
    Numbering,
    NumberingError,
    RatingSummary,
    load_deck,
    rate_file,
    unrated_path_for,
)

USAGE_ERROR = 2
HELP = (
    "Rate call detail records against a rate deck: writes the rated calls (every input "
    "column plus prefix, rate, billed_seconds, cost) and the unrated ones (plus a "
    "reason), and prints a JSON summary."
)
OPTIONS = ("deck", "cdrs", "out", "unrated", "format", "country", "intl_prefix", "carrier_deck")


class UsageError(Exception):
    """A file or option that cannot be used; the message is one line."""

    def __init__(self, message: str):
        super().__init__(" ".join(message.split()))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--deck", required=True, help="retail rate deck CSV")
    parser.add_argument("--cdrs", required=True, help="CDR file")
    parser.add_argument("--out", required=True, help="rated calls CSV to write")
    parser.add_argument(
        "--unrated", help="unrated calls CSV to write (default: OUT with .unrated.csv)"
    )
    parser.add_argument("--format", choices=sorted(FORMATS), default="generic", help="CDR layout")
    parser.add_argument(
        "--country", help="ISO country code of national numbers in the CDRs, e.g. RU"
    )
    parser.add_argument(
        "--intl-prefix", default="00", help="international call prefix (default 00)"
    )
    parser.add_argument(
        "--carrier-deck", help="carrier (termination) deck CSV: adds cost and margin"
    )


def rate(
    *,
    deck,
    cdrs,
    out,
    unrated=None,
    format="generic",
    country=None,
    intl_prefix="00",
    carrier_deck=None,
) -> RatingSummary:
    """Rate ``cdrs`` into ``out`` and ``unrated``; raises :class:`UsageError`."""
    try:
        numbering = Numbering(intl_prefix=intl_prefix, country=country)
        out = Path(out)
        unrated = Path(unrated) if unrated else unrated_path_for(out)
        _check_outputs([out, unrated], [deck, cdrs, carrier_deck])
        retail = load_deck(deck)
        carrier = load_deck(carrier_deck) if carrier_deck else None
        return rate_file(
            cdrs, retail, out, unrated, format=format, numbering=numbering, carrier_deck=carrier
        )
    except (DeckError, CdrFileError, NumberingError) as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise UsageError(f"{error.strerror or error}: {error.filename or ''}") from None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ringup rate", description=HELP)
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    try:
        summary = rate(**options)
    except UsageError as error:
        print(f"ringup rate: {error}", file=sys.stderr)
        return USAGE_ERROR
    print(json.dumps(summary.as_json()))
    return 0


def _check_outputs(outputs: list[Path], inputs: list[str | None]) -> None:
    sources = {Path(path).resolve() for path in inputs if path}
    for output in outputs:
        if not output.parent.is_dir():
            raise UsageError(f"cannot write {output}: {output.parent} is not a folder")
        if output.resolve() in sources:
            raise UsageError(f"{output} is an input: choose another output file")
    if outputs[0].resolve() == outputs[1].resolve():
        raise UsageError("--out and --unrated must be different files")
