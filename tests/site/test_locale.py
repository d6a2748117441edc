"""The Russian catalogue: the compiled .mo matches its .po, and covers the sign-up pages."""

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import ringup

LOCALE = Path(ringup.__file__).parent / "locale" / "ru" / "LC_MESSAGES"


def _strings(catalog) -> dict:
    def plain(value):  # plural ids and strings come as lists from a .mo, tuples from a .po
        return tuple(value) if isinstance(value, list | tuple) else value

    return {plain(message.id): plain(message.string) for message in catalog if message.id}


def test_the_compiled_catalogue_is_the_current_one():
    """`pybabel compile -d src/ringup/locale -D django` after every .po change."""
    with (LOCALE / "django.po").open("rb") as po, (LOCALE / "django.mo").open("rb") as mo:
        source, compiled = read_po(po, locale="ru"), read_mo(mo)
    expected = {key: value for key, value in _strings(source).items() if value and any(value)}
    assert _strings(compiled) == expected


def test_every_sign_up_string_is_translated():
    with (LOCALE / "django.po").open("rb") as po:
        source = read_po(po, locale="ru")
    site_strings = [m for m in source if m.id and not m.string and m.id != "API"]
    # Only back-office validation messages of other apps may stay English.
    assert {m.id for m in site_strings} <= {
        "Must not be below the minimum.",
        "Choose either an option or a plan.",
        "Must be after the start.",
    }
