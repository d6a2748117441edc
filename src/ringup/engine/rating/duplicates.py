"""Exact detection of repeated call ids in an input too large for memory.

A call id seen twice is the same call exported twice; charging it twice is the one mistake
a rating run must never make, so the first occurrence is rated and later ones are not.
Keeping every id in memory would cost tens of bytes per call, so the work is split:

1. a *census* reads only the ids and keeps a 64-bit hash of each (8 bytes per call, in 64
   buckets by their top bits, each then sorted); hashes that occur more than once are the
   *suspects* — the ids that really repeat, plus, very rarely, distinct ids whose hashes
   collide;
2. while rating, a call whose hash is not a suspect is certainly the only call with its
   id; a suspect call's id is compared exactly with the suspect ids seen so far.

Memory: 8 bytes per call during the census (160 MB for 20 million calls), then the text of
the ids that do repeat. Exactness never depends on the hash: it only decides
which ids are compared as text. A missing (empty) id never counts as a repeat; such calls
are unrated for that reason of their own.
"""

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import polars as pl

# A fixed seed: the census and the rating pass must hash alike within one process. (Polars
# does not promise the same hashes across versions; nothing here stores them.)
_SEED = 0x5EED_CA11
_BUCKET_BITS = 6
_BUCKETS = 1 << _BUCKET_BITS
_NO_HASHES = np.empty(0, dtype=np.uint64)


def _hashes(ids: pl.Series) -> pl.Series:
    return ids.hash(_SEED)


class IdLedger:
    """Answers "was this id seen before?" exactly, batch after batch, for one input."""

    def __init__(self, suspects: npt.NDArray[np.uint64] | None) -> None:
        """``suspects``: sorted distinct hashes that may repeat; None: compare every id."""
        self._suspects = None if suspects is None else pl.Series(suspects, dtype=pl.UInt64)
        self._seen = pl.Series("id", [], dtype=pl.String)

    @classmethod
    def from_census(cls, id_batches: Iterable[pl.Series]) -> "IdLedger":
        """A ledger for an input whose ids arrive as ``id_batches`` (pass 1 of 2).

        The batches must hold every id of the frames later given to :meth:`repeats` (extra
        missing ids do no harm).
        """
        # Each batch's hashes are kept grouped by their top bits, so that finding repeats
        # sorts one bucket of the whole input at a time (no second full-size copy, each
        # sort fits in cache); one array per batch is freed whole, back to the system.
        grouped: list[tuple[npt.NDArray[np.uint64], npt.NDArray[np.intp]]] = []
        for ids in id_batches:
            hashes = _hashes(ids).to_numpy()
            bucket_of = (hashes >> np.uint64(64 - _BUCKET_BITS)).astype(np.uint8)
            order = np.argsort(bucket_of, kind="stable")  # a radix sort for uint8
            bounds = np.searchsorted(bucket_of[order], np.arange(_BUCKETS + 1))
            grouped.append((hashes[order], bounds))
        suspects = []
        for bucket in range(_BUCKETS):
            parts = [hashes[bounds[bucket] : bounds[bucket + 1]] for hashes, bounds in grouped]
            together = np.concatenate(parts) if parts else _NO_HASHES
            together.sort()
            suspects.append(np.unique(together[1:][together[1:] == together[:-1]]))
        return cls(np.concatenate(suspects))

    @staticmethod
    def present(ids: pl.Series) -> pl.Series:
        """True where there is an id (not null, not only spaces)."""
        return ids.is_not_null() & (ids.str.strip_chars() != "")

    def repeats(self, ids: pl.Series, present: pl.Series | None = None) -> pl.Series:
        """True where the id already occurred, earlier in ``ids`` or in an earlier batch.

        ``present`` is :meth:`present` of ``ids``, if the caller has it already.
        """
        present = self.present(ids) if present is None else present
        if self._suspects is None:
            suspect = present
        else:
            suspect = present & _hashes(ids).is_in(self._suspects.implode())
        if not suspect.any():
            return pl.repeat(False, len(ids), eager=True).alias("repeat")
        candidates = ids.filter(suspect)
        earlier = ~candidates.is_first_distinct() | candidates.is_in(self._seen.implode())
        # Rebuilt from Python strings: a filtered Polars string column still points into
        # the whole batch's text, and keeping that alive would hold every batch in memory.
        first_seen = pl.Series("id", candidates.filter(~earlier).to_list(), dtype=pl.String)
        self._seen = pl.concat([self._seen, first_seen])
        repeat = pl.repeat(False, len(ids), eager=True).alias("repeat")
        return repeat.scatter(suspect.arg_true(), earlier)
