"""The shipped emotion model: a multinomial logistic regression over word n-grams.

Pure Python on purpose (no numpy at run time: start-up time and install size
matter). The features are a message's words and word pairs, plus a few dense signals
(VADER's lexicon valences, capitals, ``!!!``, questions); a message's score for each
class is the bias plus the weights of the n-grams it holds (each time it holds
them), divided by the square root of how many n-grams it has (known to the model or
not, so the norm does not change when rare n-grams are pruned from the weights).

``bench/train_emotion.py`` trains it (scikit-learn, the ``train`` extra) on the
GoEmotions train split and the tune half of ``bench/data/support_emotion.jsonl``
and writes :data:`MODEL_PATH`; it imports :func:`tokens`, :func:`ngrams` and
:func:`dense` from here, so training and scoring see the same features.

The weights are loaded on first use (~0.1 s), not at import.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

MODEL_PATH = Path(__file__).with_name("data") / "emotion_model.json.gz"
CLASSES = ("anger", "frustration", "anxiety", "disappointment", "neutral", "positive")
# A message is read up to here: the opening sets the tone, and the cost of
# scoring stays bounded for long mail (about 130 words).
MODEL_CHARS = 700

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[!?]|[^\x00-\x7f\w\s]")
# Not worth naming to an agent as a reason.
_PLAIN = frozenset(
    [
        "!",
        "?",
        "i",
        "a",
        "an",
        "the",
        "is",
        "am",
        "are",
        "was",
        "be",
        "it",
        "this",
        "that",
        "to",
        "of",
        "in",
        "on",
        "for",
        "my",
        "me",
        "you",
        "your",
        "we",
        "our",
        "and",
        "or",
        "but",
        "so",
        "just",
        "with",
        "at",
        "as",
        "have",
        "has",
        "do",
    ]
)
DENSE = ("vader_pos", "vader_neg", "caps", "bangs", "questions")


def tokens(text: str) -> list[str]:
    """Lower-cased words, ``!``/``?`` marks and emoji of the opening of ``text``."""
    return _TOKEN.findall(text[:MODEL_CHARS].lower().replace("\u2019", "'"))


def ngrams(words: list[str]) -> list[str]:
    """The words and adjacent word pairs (a repeated one counts each time)."""
    return words + list(map(" ".join, pairwise(words)))


@cache
def _valences() -> dict[str, float]:
    """VADER's lexicon (word → mean valence, −4…4), read from the package's file."""
    from importlib.resources import files

    text = files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    table: dict[str, float] = {}
    for line in text.splitlines():
        word, _, rest = line.partition("\t")
        if rest:
            table[word] = float(rest.split("\t", 1)[0])
    return table


def dense(text: str, words: list[str]) -> tuple[float, ...]:
    """The signals a word list misses, in the order of :data:`DENSE`, each 0–1:
    VADER's lexicon valence of the words (positive and negative sums), the share of
    words in capitals (of three or more), ``!!``/``?!``, and how many questions."""
    pos = neg = 0.0
    for value in filter(None, map(_valences().get, words)):
        if value > 0:
            pos += value
        else:
            neg -= value
    opening = text[:MODEL_CHARS]
    pieces = opening.split()
    caps = sum(map(str.isupper, pieces)) / len(pieces) if len(pieces) >= 3 else 0.0
    bangs = 1.0 if ("!!" in opening or "?!" in opening or "!?" in opening) else 0.0
    questions = min(opening.count("?"), 4) / 4
    return (min(pos / 6, 1.0), min(neg / 6, 1.0), caps, bangs, questions)


@dataclass(frozen=True)
class Scores:
    """A message's raw class scores (logits, in :data:`CLASSES` order), its n-grams,
    its dense signals (:data:`DENSE`) and, when asked, the n-grams that pushed hardest
    toward the top class."""

    logits: tuple[float, ...]
    grams: list[str]
    signals: tuple[float, ...]
    words: tuple[str, ...] = ()


class EmotionModel:
    """Weights per n-gram and class; build with :func:`model` (loaded once)."""

    def __init__(self, data: dict[str, Any]) -> None:
        if tuple(data["classes"]) != CLASSES or tuple(data["dense_names"]) != DENSE:
            raise ValueError(f"{MODEL_PATH.name}: classes or features do not match this code")
        scale = float(data["scale"])
        self.bias = tuple(float(b) for b in data["bias"])
        self.dense_weights = tuple(tuple(v / scale for v in row) for row in data["dense"])
        weights: dict[str, list[int]] = data["weights"]
        self.weights = {k: tuple(v / scale for v in row) for k, row in weights.items()}

    def score(self, text: str, *, explain: bool = False) -> Scores:
        """Class scores for one message (empty text scores the biases); ``explain``
        also names the n-grams behind the top class (~20 µs more)."""
        words = tokens(text)
        grams = ngrams(words)
        logits = list(self.bias)
        signals = dense(text, words)
        for row, value in zip(self.dense_weights, signals, strict=True):
            if value:
                for k, w in enumerate(row):
                    logits[k] += w * value
        if not grams:
            return Scores(tuple(logits), grams, signals)
        weights = self.weights
        norm = 1.0 / math.sqrt(len(grams))
        rows = filter(None, map(weights.get, grams))
        for k, total in enumerate(map(sum, zip(*rows, strict=True))):
            logits[k] += total * norm
        if not explain:
            return Scores(tuple(logits), grams, signals)
        best = max(range(len(CLASSES)), key=logits.__getitem__)
        pushing = sorted(
            {g for g in grams if g in weights and weights[g][best] > 0 and g not in _PLAIN},
            key=lambda g: (-weights[g][best], g),  # ties in a stable order
        )
        return Scores(tuple(logits), grams, signals, tuple(pushing[:3]))


def softmax(logits: tuple[float, ...] | list[float]) -> list[float]:
    """Probabilities from class scores."""
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


_model: EmotionModel | None = None


def model() -> EmotionModel:
    """The shipped model, loaded on first use."""
    global _model
    if _model is None:
        with gzip.open(MODEL_PATH, "rt", encoding="utf-8") as f:
            _model = EmotionModel(json.load(f))
    return _model
