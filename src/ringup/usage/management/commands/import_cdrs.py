"""``ringup import-cdrs``: import CDR files into the database, rated and attached to
customers (``ringup.usage.services``).

One file is imported here, with a progress bar on stderr when it is a terminal. A directory
or a glob pattern becomes one Celery task per file, so the work spreads over every worker;
``--wait`` (or ``CELERY_TASK_ALWAYS_EAGER``) waits for them and sums their results.
Prints one JSON object. Nothing to import (no such file, an empty directory, a bad
``--country``, an unreadable deck) exits with status 2 and one line on stderr.
"""

import json
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ringup.engine.rating import FORMATS, CdrFileError, DeckError, Numbering, NumberingError

from ...services import (
    cdr_paths,
    configured_decks,
    file_sha256,
    files_summary,
    import_cdr_file,
    summarise,
)
from ...tasks import import_cdr_file_task

USAGE_ERROR = 2
POLL_SECONDS = 0.5


class Command(BaseCommand):
    help = (
        "Import call detail records: rate them, attach them to customers by account code, "
        "store them once (re-importing adds nothing) and print a JSON summary."
    )

    def add_arguments(self, parser):
        parser.add_argument("cdrs", help="a CDR file, a directory of them, or a glob pattern")
        parser.add_argument(
            "--format", choices=sorted(FORMATS), default="generic", help="CDR layout"
        )
        parser.add_argument(
            "--source",
            help="the switch the calls come from: ids are unique per source "
            "(default: the format's name)",
        )
        parser.add_argument("--country", help="ISO country code of national numbers, e.g. RU")
        parser.add_argument(
            "--intl-prefix", default="00", help="international call prefix (default 00)"
        )
        parser.add_argument(
            "--wait", action="store_true", help="with many files: wait for the workers"
        )

    def handle(self, *args, cdrs, format, source, country, intl_prefix, wait, **_):
        source = source or format
        paths = cdr_paths(cdrs)
        if not paths:
            raise _usage_error(f"no CDR file at {cdrs}")
        try:
            numbering = Numbering(intl_prefix=intl_prefix, country=country)
            decks = configured_decks()
        except (NumberingError, DeckError, OSError) as error:
            raise _usage_error(str(error)) from None
        if len(paths) == 1 and not _is_pattern(cdrs):
            try:
                result = import_cdr_file(
                    paths[0],
                    source=source,
                    format=format,
                    numbering=numbering,
                    decks=decks,
                    progress=_progress_bar() if sys.stderr.isatty() else None,
                )
            except CdrFileError as error:
                raise _usage_error(str(error)) from None
            summary = summarise([result])
        else:
            summary = self._fan_out(paths, source, format, country, intl_prefix, wait)
        self.stdout.write(json.dumps(summary))

    def _fan_out(self, paths, source, format, country, intl_prefix, wait) -> dict:
        since = timezone.now()
        tasks = [
            import_cdr_file_task.delay(str(path.resolve()), source, format, country, intl_prefix)
            for path in paths
        ]
        if not (wait or settings.CELERY_TASK_ALWAYS_EAGER):
            return {"files": len(paths), "queued": [task.id for task in tasks]}
        # The database, not a result backend, says when the files are done: each worker
        # marks its file in the transaction that stores its calls.
        sha256s = [file_sha256(path) for path in paths]
        while (summary := files_summary(source, sha256s, since)) is None:
            time.sleep(POLL_SECONDS)
        return summary


def _is_pattern(spec: str) -> bool:
    return Path(spec).is_dir() or any(ch in spec for ch in "*?[")


def _progress_bar():
    width = 40

    def show(done: int, total: int) -> None:
        filled = width * done // total if total else width
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} calls")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def _usage_error(message: str) -> CommandError:
    return CommandError(" ".join(message.split()), returncode=USAGE_ERROR)
