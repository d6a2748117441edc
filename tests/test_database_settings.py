"""How Ringup's connections to PostgreSQL are set up (ringup.config.settings)."""

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's settings"),
]


def test_queries_are_planned_without_jit():
    """JIT compilation costs a segment count over a million customers more than it saves
    (docs/segments.md), so every connection turns it off."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
