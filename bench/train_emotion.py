"""Train the shipped emotion model (src/deskterm/data/emotion_model.json.gz).

    pip install -e '.[train]'
    python bench/train_emotion.py --goemotions DIR

``DIR`` holds GoEmotions' ``train.tsv`` (public: google-research/google-research,
``goemotions/data/``; columns text, comma-separated label ids, id). Rows whose labels
all fall into one deskterm class (see ``bench/goemotions.py``) are used, with the
tune half of ``bench/data/support_emotion.jsonl``. The dev split and the support
test half are never read here: ``bench/bench_emotion.py`` measures on them.

The regularisation strength is chosen on a tenth of the train split held out by a
hash of its row id, by macro-F1; the model is then refit on all of it. Weights are
pruned (smallest max |w| first) to ``--max-features`` and stored as integers
(thousandths) in gzipped JSON. Fixed seed and no randomness in the data order:
the same inputs give the same file.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import zlib
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from deskterm.emotion_model import CLASSES, DENSE, MODEL_PATH, dense, ngrams, tokens  # noqa: E402
from goemotions import load_goemotions, load_support  # noqa: E402

SEED = 20261205


def featurize(texts: list[str]) -> tuple[list[Counter[str]], list[tuple[float, ...]]]:
    grams, signals = [], []
    for text in texts:
        words = tokens(text)
        grams.append(Counter(ngrams(words)))
        signals.append(dense(text, words))
    return grams, signals


def matrix(grams: list[Counter[str]], signals: list[tuple[float, ...]], vocab: dict[str, int]):  # type: ignore[no-untyped-def]
    from scipy.sparse import csr_matrix

    data, indices, indptr = [], [], [0]
    width = len(vocab)
    for doc, extra in zip(grams, signals, strict=True):
        norm = 1.0 / doc.total() ** 0.5 if doc else 0.0
        for g, count in doc.items():
            j = vocab.get(g)
            if j is not None:
                indices.append(j)
                data.append(count * norm)
        for k, value in enumerate(extra):
            if value:
                indices.append(width + k)
                data.append(value)
        indptr.append(len(indices))
    return csr_matrix((data, indices, indptr), shape=(len(grams), width + len(DENSE)))


def weights_for(labels: list[int], extra: list[float]) -> list[float]:
    """Class-balanced sample weights, times each row's own weight."""
    counts = Counter(labels)
    total = sum(counts.values())
    return [total / (len(CLASSES) * counts[y]) * w for y, w in zip(labels, extra, strict=True)]


def fit(x, y, w, c):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=3000, random_state=SEED)
    clf.fit(x, y, sample_weight=w)
    return clf


def macro_f1(gold: list[int], got: list[int]) -> float:
    """Macro-F1 as if every class had as many rows (each row weighted by 1 / its
    class's count): the evaluation draws the same number of rows per class."""
    counts = Counter(gold)
    scores = []
    for k in range(len(CLASSES)):
        tp = sum(1 / counts[g] for g, p in zip(gold, got, strict=True) if g == p == k)
        fp = sum(1 / counts[g] for g, p in zip(gold, got, strict=True) if p == k != g)
        fn = sum(1 / counts[g] for g, p in zip(gold, got, strict=True) if g == k != p)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


PROBES = (
    "WHY is my ORDER still NOT HERE??? I paid weeks ago!!",
    "Thanks, that's lovely :) but I'm not happy with the delay.",
)


def probes() -> list[list[object]]:
    """The features of a few texts as training saw them: a test recomputes them, so a
    change to the feature code without retraining fails there, not silently."""
    out: list[list[object]] = []
    for text in PROBES:
        words = tokens(text)
        out.append([text, sorted(ngrams(words)), [round(v, 6) for v in dense(text, words)]])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goemotions", type=Path, required=True, help="dir with train.tsv")
    parser.add_argument("--support-weight", type=float, default=3.0)
    parser.add_argument("--max-features", type=int, default=12000)
    parser.add_argument("--min-df", type=int, default=2)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()

    rows = load_goemotions(args.goemotions / "train.tsv", multi=True)
    support = [r for r in load_support() if r["split"] == "tune"]
    texts = [r["text"] for r in rows] + [r["text"] for r in support]
    labels = [CLASSES.index(r["emotion"]) for r in rows + support]
    extra = [1.0] * len(rows) + [args.support_weight] * len(support)
    held = [zlib.crc32(r["id"].encode()) % 10 == 0 for r in rows] + [False] * len(support)
    print(f"train rows: {len(rows)} GoEmotions + {len(support)} support;", dict(Counter(labels)))

    grams, signals = featurize(texts)
    df: Counter[str] = Counter()
    for doc, h in zip(grams, held, strict=True):
        if not h:
            df.update(doc)
    vocab = {g: i for i, g in enumerate(sorted(g for g, n in df.items() if n >= args.min_df))}
    x = matrix(grams, signals, vocab)
    fit_rows = [i for i, h in enumerate(held) if not h]
    val_rows = [i for i, h in enumerate(held) if h]
    best = (0.0, 1.0)
    for c in (1.0, 2.0, 4.0, 8.0, 16.0):
        clf = fit(
            x[fit_rows],
            [labels[i] for i in fit_rows],
            weights_for([labels[i] for i in fit_rows], [extra[i] for i in fit_rows]),
            c,
        )
        got = list(clf.predict(x[val_rows]))
        score = macro_f1([labels[i] for i in val_rows], got)
        print(f"C={c}: held-out macro-F1 {score:.3f}")
        best = max(best, (score, c))
    c = best[1]

    df = Counter()
    for doc in grams:
        df.update(doc)
    vocab = {g: i for i, g in enumerate(sorted(g for g, n in df.items() if n >= args.min_df))}
    x = matrix(grams, signals, vocab)
    clf = fit(x, labels, weights_for(labels, extra), c)
    coef = clf.coef_
    names = sorted(vocab, key=lambda g: -abs(coef[:, vocab[g]]).max())[: args.max_features]
    scale = 1000
    model = {
        "classes": list(CLASSES),
        "dense_names": list(DENSE),
        "scale": scale,
        "trained": {"C": c, "support_weight": args.support_weight, "rows": len(labels),
                    "vocabulary": len(vocab), "kept": len(names), "seed": SEED},
        "probes": probes(),
        "bias": [round(float(b), 4) for b in clf.intercept_],
        "dense": [[round(float(coef[k, len(vocab) + j]) * scale) for k in range(len(CLASSES))]
                  for j in range(len(DENSE))],
        "weights": {g: [round(float(coef[k, vocab[g]]) * scale) for k in range(len(CLASSES))]
                    for g in sorted(names)},
    }  # fmt: skip
    raw = json.dumps(model, separators=(",", ":"), ensure_ascii=False).encode()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(gzip.compress(raw, 9, mtime=0))
    print(f"C={c}; {len(names)} of {len(vocab)} n-grams kept; {args.out} "
          f"{args.out.stat().st_size / 1e6:.2f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
