import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate limits live in the shared file cache: each test starts with none used."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def mail_folder(settings, tmp_path):
    """Each test's own mail folder (e-mail and the built-in SMS provider write there)."""
    settings.RINGUP_MAIL_DIR = tmp_path / "mail"
    settings.EMAIL_BACKEND = "ringup.notifications.backends.MailFolderBackend"
    return settings.RINGUP_MAIL_DIR
