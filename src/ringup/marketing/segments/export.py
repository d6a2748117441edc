"""The members of a segment as CSV (look-alike audiences for ad platforms), streamed."""

import csv
from collections.abc import Iterator
from datetime import datetime

from django.http import StreamingHttpResponse

from .models import Segment
from .selectors import members

COLUMNS = ("name", "email", "phone", "country", "language", "tier")
# Rows are fetched from the database cursor in chunks; nothing holds the whole list.
CHUNK = 2000


class _Line:
    """A file-like object whose ``write`` hands back what csv.writer wrote."""

    def write(self, text: str) -> str:
        return text


def csv_lines(segment_or_conditions: Segment | dict, *, at: datetime) -> Iterator[str]:
    """The header, then one CSV line per member at ``at`` (one SQL query, iterated)."""
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    rows = members(segment_or_conditions, at=at).order_by("pk").values_list(*COLUMNS)
    for row in rows.iterator(chunk_size=CHUNK):
        yield writer.writerow([_safe(value) for value in row])


def _safe(value: str) -> str:
    # A cell starting with = + - @ is a formula to spreadsheet programs; quote it out.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") and not _is_phone(value) else value


def _is_phone(value: str) -> bool:
    return value.startswith("+") and value[1:].isdigit()


def csv_response(segment: Segment, *, at: datetime) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(segment, at=at), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}-{at:%Y%m%d}.csv"'
    return response
