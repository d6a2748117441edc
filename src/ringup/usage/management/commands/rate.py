"""``ringup rate``: rate a CDR file against a rate deck, offline, into CSV files.

Prints one JSON object on stdout (counts, billed seconds, exact totals). A file that cannot
be used (missing, unreadable, a missing column, a bad deck line, an unknown country) exits
with status 2 and one line on stderr; bad call rows never stop the run — they go to the
unrated file with a reason.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ringup.engine.rating import (
    FORMATS,
    CdrFileError,
    DeckError,
    Numbering,
    NumberingError,
    load_deck,
    rate_file,
    unrated_path_for,
)

USAGE_ERROR = 2


class Command(BaseCommand):
    help = (
        "Rate call detail records against a rate deck: writes the rated calls (every input "
        "column plus prefix, rate, billed_seconds, cost) and the unrated ones (plus a "
        "reason), and prints a JSON summary."
    )
    # Rating touches neither the database nor the project's models.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--deck", required=True, help="retail rate deck CSV")
        parser.add_argument("--cdrs", required=True, help="CDR file")
        parser.add_argument("--out", required=True, help="rated calls CSV to write")
        parser.add_argument(
            "--unrated", help="unrated calls CSV to write (default: OUT with .unrated.csv)"
        )
        parser.add_argument(
            "--format", choices=sorted(FORMATS), default="generic", help="CDR layout"
        )
        parser.add_argument(
            "--country", help="ISO country code of national numbers in the CDRs, e.g. RU"
        )
        parser.add_argument(
            "--intl-prefix", default="00", help="international call prefix (default 00)"
        )
        parser.add_argument(
            "--carrier-deck", help="carrier (termination) deck CSV: adds cost and margin"
        )

    def handle(self, *args, **options):
        try:
            summary = self._rate(**options)
        except (DeckError, CdrFileError, NumberingError) as error:
            raise _usage_error(str(error)) from None
        except OSError as error:
            raise _usage_error(f"{error.strerror or error}: {error.filename or ''}") from None
        self.stdout.write(json.dumps(summary.as_json()))

    def _rate(self, *, deck, cdrs, out, unrated, format, country, intl_prefix, carrier_deck, **_):
        numbering = Numbering(intl_prefix=intl_prefix, country=country)
        out = Path(out)
        unrated = Path(unrated) if unrated else unrated_path_for(out)
        _check_outputs([out, unrated], [deck, cdrs, carrier_deck])
        retail = load_deck(deck)
        carrier = load_deck(carrier_deck) if carrier_deck else None
        return rate_file(
            cdrs,
            retail,
            out,
            unrated,
            format=format,
            numbering=numbering,
            carrier_deck=carrier,
        )


def _usage_error(message: str) -> CommandError:
    # Django prints "CommandError: <message>": keep it to the one line the rules promise.
    return CommandError(" ".join(message.split()), returncode=USAGE_ERROR)


def _check_outputs(outputs: list[Path], inputs: list[str | None]) -> None:
    sources = {Path(path).resolve() for path in inputs if path}
    for output in outputs:
        if not output.parent.is_dir():
            raise _usage_error(f"cannot write {output}: {output.parent} is not a folder")
        if output.resolve() in sources:
            raise _usage_error(f"{output} is an input: choose another output file")
    if outputs[0].resolve() == outputs[1].resolve():
        raise _usage_error("--out and --unrated must be different files")
