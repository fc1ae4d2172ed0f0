"""Emotion benchmark: the shipped detector against VADER alone, on text it was not
trained on, and its CPU cost per message.

    python bench/bench_emotion.py --goemotions DIR [--json out.json]

``DIR`` holds GoEmotions' ``dev.tsv`` (public: google-research/google-research,
``goemotions/data/dev.tsv``), mapped as in ``bench/goemotions.py``: all single-label
rows of the six classes, and a balanced draw of 60 per class (the shape of the
outside check). The support-style messages (``bench/data/support_emotion.jsonl``)
are reported by half: the model was trained on the tune half, never on the test
half. Without ``--goemotions`` only the support set is measured.

For each set: accuracy, macro-F1 and per-class recall over the six classes, and
accuracy on the coarse negative/neutral/positive task. VADER alone reads the whole
text: compound ≤ −0.05 is negative, ≥ 0.05 positive, else neutral; for the six-class
figures its "negative" counts as frustration (it cannot tell the negative emotions
apart).

Cost: CPU time (``time.thread_time_ns``) of ``EmotionAnalyzer.analyze`` per message
on 1 KB texts (messages of both sets joined up to 1,000–1,100 characters), the
median over the texts, after the model is loaded.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from deskterm import emotion_model  # noqa: E402
from deskterm.emotion import EmotionAnalyzer, decide  # noqa: E402
from deskterm.emotion_model import CLASSES  # noqa: E402
from goemotions import balanced, load_goemotions, load_support  # noqa: E402

COARSE = {"neutral": "neutral", "positive": "positive"}  # the rest are negative


def metrics(gold: list[str], got: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class recall and 3-way accuracy."""
    n = len(gold)
    f1s, recall = [], {}
    for c in CLASSES:
        tp = sum(1 for g, p in zip(gold, got, strict=True) if g == p == c)
        fp = sum(1 for g, p in zip(gold, got, strict=True) if p == c != g)
        fn = sum(1 for g, p in zip(gold, got, strict=True) if g == c != p)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
        recall[c] = round(tp / (tp + fn), 3) if tp + fn else None
    coarse = sum(
        1 for g, p in zip(gold, got, strict=True) if COARSE.get(g, "-") == COARSE.get(p, "-")
    )
    return {
        "n": n,
        "accuracy": round(sum(1 for g, p in zip(gold, got, strict=True) if g == p) / n, 3),
        "macro_f1": round(sum(f1s) / len(f1s), 3),
        "three_way": round(coarse / n, 3),
        "recall": recall,
    }


def vader() -> Callable[[dict[str, Any]], str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()

    def classify(row: dict[str, Any]) -> str:
        compound = analyzer.polarity_scores(row["text"])["compound"]
        if compound <= -0.05:
            return "frustration"
        return "positive" if compound >= 0.05 else "neutral"

    return classify


def detector() -> Callable[[dict[str, Any]], str]:
    analyzer = EmotionAnalyzer()

    def classify(row: dict[str, Any]) -> str:
        return analyzer.analyze(
            row["text"], repeat_contact=row.get("repeat_contact", False)
        ).emotion

    return classify


def cost(texts: list[str], repeat: int = 20) -> dict[str, float]:
    """Median and 90th percentile CPU µs per message over ``texts``: as an import
    scores it (``features`` then ``decide``), and with the explanation the ticket
    screen asks for (``analyze``)."""
    analyzer = EmotionAnalyzer()
    analyzer.analyze("warm up: load the model")
    result: dict[str, float] = {
        "texts": len(texts),
        "mean_chars": round(statistics.mean(len(t) for t in texts)),
    }
    ways: dict[str, Callable[[str], object]] = {
        "import": lambda text: decide(analyzer.features(text)),
        "explained": analyzer.analyze,
    }
    for name, score in ways.items():
        per = []
        for text in texts:
            start = time.thread_time_ns()
            for _ in range(repeat):
                score(text)
            per.append((time.thread_time_ns() - start) / repeat / 1000)
        per.sort()
        result[f"{name}_median_us"] = round(statistics.median(per), 1)
        result[f"{name}_p90_us"] = round(per[int(0.9 * (len(per) - 1))], 1)
    return result


def kilobyte_texts(pool: list[str], count: int = 200) -> list[str]:
    """``count`` texts of 1,000–1,100 characters made of consecutive messages."""
    texts, current, i = [], "", 0
    while len(texts) < count:
        current = f"{current} {pool[i % len(pool)]}".strip() if current else pool[i % len(pool)]
        i += 1
        if len(current) >= 1000:
            texts.append(current[:1100])
            current = ""
    return texts


def table(name: str, results: dict[str, dict[str, Any]]) -> str:
    lines = [f"\n{name}", "| set | n | detector | accuracy | macro-F1 | 3-way | " +
             " | ".join(f"recall {c[:5]}" for c in CLASSES) + " |"]  # fmt: skip
    for key, r in results.items():
        recalls = " | ".join(
            "" if r["recall"][c] is None else f"{r['recall'][c]:.2f}" for c in CLASSES
        )
        head = f"| {key} | {r['n']} | {r['accuracy']:.1%} | {r['macro_f1']:.3f} | "
        lines.append(f"{head}{r['three_way']:.1%} | {recalls} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goemotions", type=Path, help="dir with GoEmotions dev.tsv")
    parser.add_argument("--per-class", type=int, default=60)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--model", type=Path, help="weights to try instead of the shipped ones")
    args = parser.parse_args()
    if args.model:
        emotion_model.MODEL_PATH = args.model

    sets: dict[str, list[dict[str, Any]]] = {}
    if args.goemotions:
        dev = load_goemotions(args.goemotions / "dev.tsv")
        sets["GoEmotions dev, all"] = dev
        sets[f"GoEmotions dev, {args.per_class}/class"] = balanced(dev, args.per_class)
    support = load_support()
    sets["support, tune half (trained on)"] = [r for r in support if r["split"] == "tune"]
    sets["support, test half"] = [r for r in support if r["split"] == "test"]

    results: dict[str, dict[str, Any]] = {}
    for name, make in (("model + cues", detector), ("VADER alone", vader)):
        classify = make()
        for set_name, rows in sets.items():
            got = [classify(r) for r in rows]
            results[f"{set_name} · {name}"] = metrics([r["emotion"] for r in rows], got)
    print(table("Emotion, six classes and 3-way", results))

    pool = [r["text"] for r in support] + [r["text"] for r in sets.get("GoEmotions dev, all", [])]
    timing = cost(kilobyte_texts(pool))
    print(f"\ncost per message, 1 KB texts: {timing}")
    if args.json:
        args.json.write_text(json.dumps({"quality": results, "cost": timing}, indent=2))


if __name__ == "__main__":
    main()
