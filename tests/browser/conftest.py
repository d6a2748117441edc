import pytest


@pytest.fixture
def live_catalog(transactional_db):
    """The demo catalog where the live server's thread can see it (committed, not inside the
    test's transaction as the ``catalog`` fixture is)."""
    from ringup.demo.catalog import load_catalog

    return load_catalog()
