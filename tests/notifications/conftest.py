import pytest

from .smtp import smtp_server


@pytest.fixture(autouse=True)
def mail_folder(settings, tmp_path):
    settings.RINGUP_MAIL_DIR = tmp_path / "mail"
    settings.EMAIL_BACKEND = "ringup.notifications.backends.MailFolderBackend"
    return settings.RINGUP_MAIL_DIR


@pytest.fixture
def smtp(settings):
    """A real SMTP server, with the e-mail settings pointed at it as RINGUP_EMAIL_URL would."""
    from ringup.notifications.conf import email_settings

    with smtp_server() as (inbox, port):
        for name, value in email_settings(f"smtp://127.0.0.1:{port}").items():
            setattr(settings, name, value)
        yield inbox
