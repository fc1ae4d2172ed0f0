"""Fuzzy matching for pickers, from one library (rapidfuzz): typed letters find an item
even with a typo or a gap ("rfnd", "refnud" → "refund-issued")."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

MIN_SCORE = 70.0  # of 100: below this a candidate is noise ("reset" vs "shipping")


def rank(query: str, candidates: Mapping[K, str], *, min_score: float = MIN_SCORE) -> list[K]:
    """The keys of ``candidates`` whose text matches ``query``, best first (ties keep
    the mapping's order). Case, punctuation and where in the text the match falls
    do not matter; an empty query matches nothing."""
    from rapidfuzz import fuzz, process, utils

    if not utils.default_process(query):
        return []
    order = {key: n for n, key in enumerate(candidates)}
    found = process.extract(
        query,
        candidates,
        scorer=fuzz.partial_ratio,
        processor=utils.default_process,
        score_cutoff=min_score,
        limit=None,
    )
    found.sort(key=lambda hit: (-hit[1], order[hit[2]]))
    return [key for _, _, key in found]
