"""Dialled numbers to E.164 digits, for a whole column at once.

A PBX records what the caller dialled: ``+7 916 123-45-67``, ``0049301234567``,
``8 (495) 123-45-67`` or an internal ``100``. Rating needs E.164 digits without ``+``:

1. formatting characters (spaces, ``-``, ``.``, ``/``, parentheses) are removed;
2. a leading ``+`` or the international call prefix (``00`` unless configured) marks an
   international number: it is stripped and the rest is taken as E.164 already;
3. any other number is national. With a country configured, ``phonenumbers`` turns it into
   E.164 (``84951234567`` in RU becomes ``74951234567``); without one, national numbers are
   taken as E.164 digits as they are (CDRs from trunks that already send E.164);
4. what is not 1–15 digits after that is not a number (null: the call is unrated).

Why ``phonenumbers`` on distinct strings rather than a vectorised trunk-prefix rule: the
library's national parsing is more than "strip the trunk prefix, prepend the country code"
(national-prefix transform rules, carrier codes, numbers already carrying the country code
such as ``79161234567`` in RU, the country's own international prefix ``810``), and a
second, simplified copy of it would silently disagree with the rest of the product on
exactly the numbers people argue about on an invoice. Calling it once per *distinct*
national string of a batch (about 20 µs each) keeps the cost proportional to the numbers
people dial, not to the calls; international numbers, the usual bulk of a trunk's CDRs,
never reach it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import phonenumbers
import polars as pl

from .prefixes import Keys, digit_keys, is_digit_string

Flags = npt.NDArray[np.bool_]

_SEPARATORS = r"[\s\-./()]"


class NumberingError(ValueError):
    """A numbering plan setting that cannot be used (unknown country, bad prefix)."""


@dataclass(frozen=True, slots=True)
class Numbering:
    """How dialled numbers become E.164: the international call prefix and, optionally, the
    country (ISO 3166 code, e.g. ``"RU"``) whose national numbers the CDRs contain."""

    intl_prefix: str = "00"
    country: str | None = None

    def __post_init__(self) -> None:
        if not (self.intl_prefix.isascii() and self.intl_prefix.isdigit()):
            raise NumberingError(f"international prefix {self.intl_prefix!r} is not digits")
        if len(self.intl_prefix) > 4:
            raise NumberingError(f"international prefix {self.intl_prefix!r} is too long")
        if self.country is not None:
            country = self.country.upper()
            if country not in phonenumbers.SUPPORTED_REGIONS:
                raise NumberingError(f"unknown country code {self.country!r}")
            object.__setattr__(self, "country", country)


def normalise(numbers: pl.Series, numbering: Numbering) -> pl.Series:
    """E.164 digits (without ``+``) for each dialled number; null where there is none.

    The result has the same length and order as ``numbers``.
    """
    dialled = numbers.cast(pl.String)
    if numbering.country is None:
        done = _final_as_dialled(dialled, digit_keys(dialled)[1], numbering)
    else:
        done = np.zeros(len(dialled), dtype=bool)
    result = pl.select(pl.when(pl.lit(done)).then(pl.lit(dialled))).to_series().alias(numbers.name)
    if done.all():
        return result
    rest = np.flatnonzero(~done)
    return result.scatter(rest, _normalise_in_full(dialled.gather(rest), numbering))


def normalised_keys(numbers: pl.Series, numbering: Numbering) -> tuple[Keys, Flags]:
    """:func:`normalise`, as the prefix keys of the numbers (see ``prefixes.digit_keys``)
    and a mask of the calls that have a number."""
    dialled = numbers.cast(pl.String)
    if numbering.country is not None:
        return digit_keys(_normalise_in_full(dialled, numbering))
    keys, valid = digit_keys(dialled)
    done = _final_as_dialled(dialled, valid, numbering)
    if done.all():
        return keys, valid
    rest = np.flatnonzero(~done)
    keys[rest], valid[rest] = digit_keys(_normalise_in_full(dialled.gather(rest), numbering))
    return keys, valid


def _final_as_dialled(dialled: pl.Series, digits: Flags, numbering: Numbering) -> Flags:
    """True where the number needs no normalising (``digits``: it is 1–15 digits)."""
    # Most trunks send bare E.164 digits: those are final as they are, and only the rest
    # (formatting, "+", the international prefix, national numbers) takes the full path.
    international: Flags = (
        dialled.str.starts_with(numbering.intl_prefix).fill_null(False).to_numpy()
    )
    return digits & ~international


def _normalise_in_full(dialled: pl.Series, numbering: Numbering) -> pl.Series:
    frame = pl.DataFrame({"dialled": dialled}).with_columns(
        cleaned=pl.col("dialled").str.replace_all(_SEPARATORS, "")
    )
    cleaned = pl.col("cleaned")
    plus = cleaned.str.starts_with("+")
    idd = cleaned.str.starts_with(numbering.intl_prefix)
    frame = frame.with_columns(
        international=plus | idd,
        digits=pl.when(plus)
        .then(cleaned.str.slice(1))
        .when(idd)
        .then(cleaned.str.slice(len(numbering.intl_prefix)))
        .otherwise(cleaned),
    )
    if numbering.country is not None:
        frame = _nationals_to_e164(frame, numbering.country)
    digits = pl.col("digits")
    return frame.select(pl.when(is_digit_string(digits)).then(digits)).to_series()


def _nationals_to_e164(frame: pl.DataFrame, country: str) -> pl.DataFrame:
    national = frame.filter(~pl.col("international") & pl.col("digits").is_not_null())
    distinct = national["digits"].unique().to_list()
    if not distinct:
        return frame
    converted = pl.Series(national_to_e164(distinct, country), dtype=pl.String)
    lookup = pl.col("digits").replace_strict(distinct, converted, default=None)
    return frame.with_columns(
        digits=pl.when(pl.col("international")).then(pl.col("digits")).otherwise(lookup)
    )


def national_to_e164(numbers: Sequence[str], country: str) -> list[str | None]:
    """E.164 digits of each national number as dialled in ``country`` (None: not a number).

    Numbers that are only possible as local numbers (no area code) are rejected: a rate
    deck cannot know which area they were dialled from.
    """
    return [_one_national_to_e164(number, country) for number in numbers]


def _one_national_to_e164(number: str, country: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, country)
    except phonenumbers.NumberParseException:
        return None
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]
