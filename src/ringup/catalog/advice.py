"""The plan advisor's reasons in the active language.

``ringup.engine.advisor`` gives each reason as an English template with its figures; the
templates and the needs' words are msgids of the project's catalog (added by hand:
``makemessages`` does not see strings outside gettext calls). Numbers are grouped as the
language groups them; plan names are the operator's and stay as written.
"""

from django.utils.formats import number_format
from django.utils.translation import gettext

from ringup.engine.advisor import NEEDS, Advice, Reason


def _say(name: str, value: object) -> str:
    if name == "need":
        return gettext(NEEDS[str(value)])
    if name == "needs" and isinstance(value, tuple):
        # "X and Y": the conjunction is the language's.
        return gettext(" and ").join(gettext(NEEDS[need]) for need in value)
    if isinstance(value, int):
        return number_format(value, force_grouping=True)
    return str(value)


def said(reason: Reason) -> str:
    """One reason in the active language."""
    translated = Reason(gettext(reason.message), reason.params)
    try:
        return translated.text(_say)
    except (KeyError, IndexError, ValueError):  # a translation with a wrong placeholder
        return reason.text(_say)


def reasons(advice: Advice) -> list[str]:
    """The advice's reasons in the active language, in order."""
    return [said(reason) for reason in advice.explained]
