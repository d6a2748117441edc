"""Celery wrapper of the CDR import: one task per file, so files fan out over workers."""

from celery import shared_task

from ringup.engine.rating import Numbering

from .services import import_cdr_file


@shared_task(name="ringup.usage.import_cdr_file")
def import_cdr_file_task(
    path: str,
    source: str,
    format: str = "generic",
    country: str | None = None,
    intl_prefix: str = "00",
) -> dict:
    """Import one CDR file (``services.import_cdr_file``); returns its ``FileImport``."""
    numbering = Numbering(intl_prefix=intl_prefix, country=country)
    return import_cdr_file(path, source=source, format=format, numbering=numbering).as_dict()


__all__ = ["import_cdr_file_task"]
