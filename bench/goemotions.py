"""Labelled data for the emotion benchmark and training: GoEmotions mapped to
deskterm's classes, and the support-style messages in ``bench/data``.

GoEmotions (google-research/google-research, ``goemotions/data/{train,dev,test}.tsv``;
columns text, comma-separated label ids, id) has 28 labels; the mapping is the one
in REFERENCE.md and issue 16: anger(2)→anger, annoyance(3)→frustration,
disappointment(9)→disappointment, fear(14) and nervousness(19)→anxiety,
neutral(27)→neutral, admiration(0), gratitude(15), joy(17)→positive. Rows with any
other label are left out.
"""

from __future__ import annotations

import csv
import json
import zlib
from pathlib import Path
from typing import Any

SUPPORT = Path(__file__).resolve().parent / "data" / "support_emotion.jsonl"
LABELS = {
    2: "anger",
    3: "frustration",
    9: "disappointment",
    14: "anxiety",
    19: "anxiety",
    27: "neutral",
    0: "positive",
    15: "positive",
    17: "positive",
}


def load_goemotions(path: Path, *, multi: bool = False) -> list[dict[str, Any]]:
    """Mapped rows of one GoEmotions split: rows with a single label (the evaluation's
    rule), or with ``multi`` also rows whose labels all map to the same class."""
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for text, labels, row_id in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            ids = [int(x) for x in labels.split(",")]
            if len(ids) > 1 and not multi:
                continue
            classes = {LABELS.get(i) for i in ids}
            if len(classes) == 1 and None not in classes:
                rows.append({"text": text, "emotion": classes.pop(), "id": row_id})
    return rows


def balanced(rows: list[dict[str, Any]], per_class: int) -> list[dict[str, Any]]:
    """``per_class`` rows of each class (fewer if a class has fewer), chosen by a hash
    of the row id: the same rows every run, as the outside check draws 60 per class."""
    picked: list[dict[str, Any]] = []
    for emotion in sorted({r["emotion"] for r in rows}):
        mine = sorted(
            (r for r in rows if r["emotion"] == emotion), key=lambda r: zlib.crc32(r["id"].encode())
        )
        picked.extend(mine[:per_class])
    return picked


def split_of(text: str) -> str:
    """The support set's split: fixed once by a hash of the text."""
    return "test" if zlib.crc32(text.encode()) % 2 else "tune"


def load_support() -> list[dict[str, Any]]:
    """The support-style messages, each with its split (checked against the hash)."""
    rows = [json.loads(line) for line in SUPPORT.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        if row["split"] != split_of(row["text"]):
            raise ValueError(f"{SUPPORT.name}: split of {row['text']!r} does not match its hash")
    return rows
