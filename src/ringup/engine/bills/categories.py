"""Destination categories of calls: local, long distance, mobile, international, toll free.

A prospect's bill is priced by these categories, so the bill analysis sorts its calls into
them the way the prospect's phone company does, with ``phonenumbers``' numbering plans:

* a number of another country (its region is not the home country) is **international**;
* a home-country number of type TOLL_FREE is **toll_free**, of type MOBILE **mobile**;
* a home-country fixed line (FIXED_LINE or FIXED_LINE_OR_MOBILE) is **local** when its
  geographic area is the home area, else **long_distance**;
* anything else — extensions and short codes that are not E.164 numbers, premium-rate,
  shared-cost, VoIP or personal numbers — is **other**.

Areas are compared by their name in ``phonenumbers``' English geocoder ("Moscow" covers both
495 and 499), falling back to the area code digits where the geocoder has no name.

Why lookups per *prefix*: numbering plans give types and areas by leading digits, in
ranges, and no plan splits below the first eight E.164 digits (country code plus area or
mobile code plus a digit or two). A ``phonenumbers`` lookup costs about 45 µs, so calls are
grouped by their first six digits and the group's lowest and highest full-length numbers
are classified: when they agree, the whole range between them does (plans assign ranges,
not scattered numbers); when they differ, the group is split by eight digits and one
number of each part decides it. A year of a large company's calls takes a few hundred
lookups, not one per call or per number.
"""

from collections.abc import Callable, Mapping
from enum import StrEnum

import phonenumbers
import polars as pl
from phonenumbers import PhoneNumberType

#: Leading E.164 digits that decide a number's category (see the module docstring).
CATEGORY_DIGITS = 8
#: Numbers are first grouped by this many leading digits (see :func:`_by_prefix`).
COARSE_DIGITS = 6

_FIXED = (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
_UNKNOWN_REGION = "ZZ"


class Category(StrEnum):
    """Where a call went, as a phone bill prices it."""

    LOCAL = "local"
    LONG_DISTANCE = "long_distance"
    MOBILE = "mobile"
    INTERNATIONAL = "international"
    TOLL_FREE = "toll_free"
    OTHER = "other"


def number_areas(e164: pl.Series, home_country: str) -> pl.Series:
    """The geographic area of each home-country fixed-line number (null for any other).

    ``e164`` holds E.164 digits without ``+`` (null where there is no number).
    """
    return _by_prefix(e164, lambda number: _describe(number, home_country)[1]).alias("area")


def categories(e164: pl.Series, home_country: str, home_area: str | None) -> pl.Series:
    """The :class:`Category` value of each number (``other`` where there is none).

    With ``home_area`` None no fixed line is local: all of them are long distance.
    """

    def category(number: str) -> str:
        found, area = _describe(number, home_country)
        if found is Category.LONG_DISTANCE and area is not None and area == home_area:
            found = Category.LOCAL
        return found.value

    spread = _by_prefix(e164, category)
    return spread.fill_null(Category.OTHER.value).alias("category")


def area_of(digits: str, home_country: str) -> str | None:
    """The area of the home-country number or prefix ``digits`` (E.164, e.g. ``"7495"``).

    A prefix is completed with zeros to a full-length number first: the geocoder reads
    areas from leading digits only.
    """
    number = digits.ljust(11, "0") if len(digits) < 11 else digits
    return _describe(number, home_country)[1]


def _by_prefix(e164: pl.Series, value_of: Callable[[str], str | None]) -> pl.Series:
    """``value_of`` each number, asked once per prefix group (see the module docstring).

    Groups of :data:`COARSE_DIGITS` whose lowest and highest full-length numbers get the
    same value take it for all their numbers; the others are split into groups of
    :data:`CATEGORY_DIGITS`, each valued by its longest number.
    """
    numbers = e164.cast(pl.String).alias("number")
    coarse = numbers.str.slice(0, COARSE_DIGITS).alias("coarse")
    fine = numbers.str.slice(0, CATEGORY_DIGITS).alias("fine")
    distinct = pl.DataFrame([numbers, coarse, fine]).drop_nulls().unique("number")
    # The longest numbers of a group are the most likely to be complete, valid ones.
    longest = distinct.filter(
        pl.col("number").str.len_chars() == pl.col("number").str.len_chars().max().over("coarse")
    )
    ends = longest.group_by("coarse").agg(low=pl.col("number").min(), high=pl.col("number").max())
    agreed: dict[str, str | None] = {}
    split: list[str] = []
    for group, low, high in ends.sort("coarse").iter_rows():
        value = value_of(low)
        if low == high or value_of(high) == value:
            agreed[group] = value
        else:
            split.append(group)
    result = _spread(coarse, agreed)
    if not split:
        return result
    representatives = (
        distinct.filter(pl.col("coarse").is_in(split))
        .sort(pl.col("number").str.len_chars(), "number", descending=[True, False])
        .unique("fine", keep="first")
    )
    finer = {
        group: value_of(number)
        for group, number in representatives.select("fine", "number").iter_rows()
    }
    return pl.select(
        pl.when(coarse.is_in(split)).then(_spread(fine, finer)).otherwise(result)
    ).to_series()


def _spread(keys: pl.Series, values: Mapping[str, str | None]) -> pl.Series:
    """The value of each number's group (null for a group without one)."""
    if not values:
        return pl.Series(keys.name, [None] * len(keys), dtype=pl.String)
    return keys.replace_strict(
        list(values),
        pl.Series(list(values.values()), dtype=pl.String),
        default=None,
        return_dtype=pl.String,
    )


def _describe(number: str, home_country: str) -> tuple[Category, str | None]:
    """The category of one E.164 number (fixed lines: long distance) and its area."""
    try:
        parsed = phonenumbers.parse("+" + number)
    except phonenumbers.NumberParseException:
        return Category.OTHER, None
    region = phonenumbers.region_code_for_number(parsed) or _main_region(parsed)
    if region == _UNKNOWN_REGION:
        return Category.OTHER, None
    if region != home_country:
        return Category.INTERNATIONAL, None
    kind = phonenumbers.number_type(parsed)
    if kind == PhoneNumberType.TOLL_FREE:
        return Category.TOLL_FREE, None
    if kind == PhoneNumberType.MOBILE:
        return Category.MOBILE, None
    if kind in _FIXED:
        return Category.LONG_DISTANCE, _area(parsed)
    return Category.OTHER, None


def _main_region(parsed: phonenumbers.PhoneNumber) -> str:
    # An invalid number (too short, an unassigned range) has no region of its own; the
    # country code still says which country was dialled.
    return str(phonenumbers.region_code_for_country_code(parsed.country_code or 0))


def _area(parsed: phonenumbers.PhoneNumber) -> str | None:
    # Imported here: the geocoder's data takes half a second to load, which every process
    # starting Django would pay (the sales desk imports this module) for bill analyses only.
    from phonenumbers import geocoder

    name = str(geocoder.description_for_valid_number(parsed, "en"))
    if name:
        return name
    length = phonenumbers.length_of_geographical_area_code(parsed)
    national = phonenumbers.national_significant_number(parsed)
    return national[:length] if length else None
