"""Longest-prefix matching of E.164 digit strings, vectorised with NumPy.

Each digit string of at most :data:`MAX_DIGITS` digits becomes one ``uint64`` *key*: the
digits as hexadecimal nibbles, left-aligned in the top 60 bits and zero-padded, with the
string's length in the low 4 bits. Comparing keys as integers compares the strings
lexicographically (a prefix sorts before its extensions), which gives the matcher its shape:

1. the deck's keys are sorted once;
2. for each number, ``searchsorted`` finds the greatest deck prefix ``P`` sorting at or
   before it. Every deck prefix of the number sorts between itself and the number, so each
   of them is a prefix of ``P`` too: the answer is the longest prefix of ``P`` in the deck
   that is no longer than the common prefix of ``P`` and the number;
3. a table built once per deck (the longest deck entry that is a prefix of entry ``i`` and
   has at most ``n`` digits, for every ``i`` and ``n``) turns that into one lookup.

So a batch of calls costs one binary search and a handful of array operations per call,
whatever the deck's size or depth of nesting.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

#: E.164 numbers have at most 15 digits; so do deck prefixes.
MAX_DIGITS = 15

_NIBBLE_BITS = 4
_LENGTH_BITS = 4
_KEY_DTYPE = np.uint64

# Columns of the ancestor table: a number shares 0 to 15 digits with its neighbour.
_WIDTH = MAX_DIGITS + 1

Keys = npt.NDArray[np.uint64]
Indices = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]


def digit_keys(digits: pl.Series) -> tuple[Keys, Flags]:
    """Keys of the values of ``digits`` that are 1–15 ASCII digits, and a mask of those.

    Any other value (null, empty, too long, a sign, a space, a letter) gets key 0 and
    False: the mask is exactly :func:`is_digit_string`, without a regular expression per
    value on the hot path.
    """
    # Decimal digits read as hexadecimal are their own nibbles: "7916" becomes 0x7916. The
    # parse also accepts "a"–"f" and a leading sign, which the checks below reject.
    parsed = digits.str.to_integer(base=16, strict=False)
    values = parsed.fill_null(0).to_numpy().view(_KEY_DTYPE)
    lengths = digits.str.len_bytes().fill_null(0).to_numpy().astype(np.int64)
    plus = digits.str.starts_with("+").fill_null(False).to_numpy()
    valid = (
        parsed.is_not_null().to_numpy()
        & ~plus
        & (lengths >= 1)
        & (lengths <= MAX_DIGITS)
        & ~_has_letter_nibble(values)  # also every negative value: its top nibble is 0xF
    )
    # What a minus sign leaves undetected is "-0", "-00" …: values of 0.
    zeros = np.flatnonzero(valid & (values == 0))
    if len(zeros):
        valid[zeros] = ~digits.gather(zeros).str.starts_with("-").to_numpy()
    used = np.where(valid, lengths, 0).astype(_KEY_DTYPE)
    shifts = (_KEY_DTYPE(MAX_DIGITS) - used) * _KEY_DTYPE(_NIBBLE_BITS)
    keys: Keys = ((values << shifts) << _KEY_DTYPE(_LENGTH_BITS)) | used
    keys[~valid] = 0
    return keys, valid


def _has_letter_nibble(values: Keys) -> Flags:
    """True where a nibble of the value is 0xA–0xF (a hexadecimal letter, not a digit)."""
    # A nibble b3 b2 b1 b0 is 10 or more exactly when b3 and (b2 or b1); each shift brings
    # one of those bits to the nibble's lowest place, where the mask keeps it.
    lowest = _KEY_DTYPE(0x1111_1111_1111_1111)
    three, two, one = _KEY_DTYPE(3), _KEY_DTYPE(2), _KEY_DTYPE(1)
    letters = (values >> three) & ((values >> two) | (values >> one)) & lowest
    found: Flags = letters != 0
    return found


def is_digit_string(column: pl.Expr) -> pl.Expr:
    """True where ``column`` is 1–15 ASCII digits (false for null)."""
    return column.str.contains(r"^[0-9]{1,15}$").fill_null(False)


# 16⁰ … 16¹⁵: a value below 16ⁿ has at most n significant nibbles.
_NIBBLE_POWERS = np.array([1 << (_NIBBLE_BITS * n) for n in range(MAX_DIGITS + 1)], _KEY_DTYPE)


def _common_digits(a: Keys, b: Keys) -> npt.NDArray[np.int64]:
    """Leading nibbles the padded digit parts of ``a`` and ``b`` share (0–15).

    Padding counts as a digit here; callers cap the result at the number's length.
    """
    differing = (a ^ b) >> _KEY_DTYPE(_LENGTH_BITS)
    significant = np.searchsorted(_NIBBLE_POWERS, differing, side="right")
    return MAX_DIGITS - significant.astype(np.int64)


def _truncate(keys: Keys, digits: int) -> Keys:
    """Keys of the first ``digits`` digits of each key (which must have at least that many)."""
    dropped_bits = 64 - digits * _NIBBLE_BITS
    kept = ~_KEY_DTYPE((1 << dropped_bits) - 1)
    return (keys & kept) | _KEY_DTYPE(digits)


@dataclass(frozen=True, slots=True, eq=False)
class PrefixIndex:
    """Sorted keys of a set of distinct prefixes and their longest-ancestor table.

    ``longest[i * 16 + n]`` is the caller's position of the longest prefix that is a prefix
    of the ``i``-th key and has at most ``n`` digits (-1: none), flattened so that one
    gather answers a whole batch.
    """

    keys: Keys
    longest: Indices

    @classmethod
    def build(cls, prefixes: pl.Series) -> "PrefixIndex":
        """Index ``prefixes`` (distinct strings of 1–15 digits)."""
        keys, valid = digit_keys(prefixes)
        if not valid.all():
            raise ValueError("prefixes must be strings of 1 to 15 digits")
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        if len(sorted_keys) > 1 and (np.diff(sorted_keys) == 0).any():
            raise ValueError("prefixes must be distinct")
        lengths = (sorted_keys & _KEY_DTYPE(0xF)).astype(np.int64)
        longest = np.full((len(sorted_keys), _WIDTH), -1, dtype=np.int64)
        for digits in range(1, MAX_DIGITS + 1):
            longest[:, digits] = longest[:, digits - 1]
            deep_enough = lengths >= digits
            found = _find(sorted_keys, _truncate(sorted_keys[deep_enough], digits))
            rows = np.flatnonzero(deep_enough)[found >= 0]
            longest[rows, digits] = order[found[found >= 0]]
        return cls(keys=sorted_keys, longest=longest.ravel())

    def match(self, numbers: pl.Series) -> Indices:
        """For each number, the caller's position of its longest matching prefix, or -1.

        ``numbers`` are strings of 1–15 digits or nulls (which match nothing).
        """
        return self.match_keys(*digit_keys(numbers))

    def match_keys(self, keys: Keys, valid: Flags) -> Indices:
        """:meth:`match` for numbers given as :func:`digit_keys` returns them."""
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        before = self._predecessors(keys)
        neighbour = np.maximum(before, 0)
        lengths = (keys & _KEY_DTYPE(0xF)).astype(np.int64)
        shared = np.minimum(_common_digits(self.keys[neighbour], keys), lengths)
        found = self.longest[neighbour * _WIDTH + shared]
        return np.where(valid & (before >= 0), found, -1)

    def _predecessors(self, keys: Keys) -> Indices:
        """Position of the greatest deck key ≤ each key (-1 when there is none)."""
        # Searching in key order keeps the binary searches' paths in cache: several times
        # faster than searching a batch in arrival order, sort included.
        order = np.argsort(keys)
        positions = np.empty(len(keys), dtype=np.int64)
        positions[order] = np.searchsorted(self.keys, keys[order], side="right")
        return positions - 1


def _find(sorted_keys: Keys, wanted: Keys) -> npt.NDArray[np.int32]:
    """Position of each wanted key in ``sorted_keys``, or -1."""
    positions = np.searchsorted(sorted_keys, wanted)
    inside = positions < len(sorted_keys)
    hit = np.zeros(len(wanted), dtype=bool)
    hit[inside] = sorted_keys[positions[inside]] == wanted[inside]
    return np.where(hit, positions, -1).astype(np.int32)
