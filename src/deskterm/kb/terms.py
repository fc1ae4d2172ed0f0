"""From a ticket's words to weighted search terms.

A customer's message carries greetings, signatures and the quoted history of the
thread; none of that says what the ticket is about. What is left, minus common
English words, becomes the query: words of the subject weigh more than words of the
messages, since a subject is the customer's own summary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

SUBJECT_WEIGHT = 2
MAX_TERMS = 40
_WORD = re.compile(r"[^\W_]+(?:'[^\W\d_]+)?")
_IDENTIFIER = re.compile(r"[^\W\d_]*[-#]?\d{3,}[\w-]*")  # ORD-377165, INV2024, #12345
_WROTE = re.compile(r"^(on .{0,120}wrote:|-{2,} ?original message|from: .+)$", re.IGNORECASE)
_SIGN_OFF = re.compile(
    r"^(best|kind|warm|many)?\s*(regards|thanks|thank you|cheers|sincerely|greetings)\b[ ,.!]*$"
    r"|^-- ?$|^sent from my ",
    re.IGNORECASE,
)
_SUBJECT_TAGS = re.compile(r"^\s*((re|aw|fwd?|wg|sv)\s*:\s*|\[[^\]]*\]\s*)+", re.IGNORECASE)

_STOP_TEXT = """
    a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did didn't
    do does doesn't doing don't down during each even ever every few for from further get
    gets got had hadn't has hasn't have haven't having he her here hers herself him himself
    his how i i'm i've if in into is isn't it it's its itself just let's like may me might
    more most much must mustn't my myself need needs no nor not now of off on once only or
    other ought our ours ourselves out over own please same shall she should shouldn't so
    some still such than that that's the their theirs them themselves then there there's
    these they they're this those through to too under until up upon us very via was wasn't
    we we're we've were weren't what what's when where which while who whom why will with
    won't would wouldn't yes yet you you're you've your yours yourself yourselves
    hi hello hey dear thanks thank regards best kind cheers team support sir madam
    anyone someone something anything since ago today yesterday tomorrow already really
    one two three time times way day days week weeks month months year years able
    know think want wanted tried try trying see seems seem said says going make made
    help asap urgent hope hoping okay ok sure also though however again
    """
STOPWORDS = frozenset(_STOP_TEXT.split())


def clean_message(body: str) -> str:
    """The customer's own words: no quoted history, forwarded headers or signature."""
    kept: list[str] = []
    for line in body.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if _WROTE.match(stripped):
            break
        if stripped.startswith(">"):
            continue
        if _SIGN_OFF.match(stripped):
            break
        kept.append(line)
    return "\n".join(kept)


def words(text: str) -> list[str]:
    """Content words, lower-cased: no stop words, numbers or identifiers."""
    out = []
    text = _IDENTIFIER.sub(" ", text.lower().replace("\u2019", "'"))
    for word in _WORD.findall(text):
        if word in STOPWORDS:
            continue
        word = word[:-2] if word.endswith("'s") else word.replace("'", "")
        if len(word) < 2 or word.isdigit() or word in STOPWORDS:
            continue
        out.append(word)
    return out


def token_set(text: str) -> set[str]:
    """Every word of a text, lower-cased (to test which search words it holds)."""
    return set(_WORD.findall(text.lower()))


def subject_words(subject: str) -> list[str]:
    return words(_SUBJECT_TAGS.sub("", subject))


def weighted_terms(subject: str, messages: Iterable[str]) -> list[tuple[str, int]]:
    """``(word, weight)`` for a ticket, heaviest first: subject words count
    :data:`SUBJECT_WEIGHT` extra, a word's repeats in the messages up to twice."""
    counts: Counter[str] = Counter()
    for body in messages:
        for word, n in Counter(words(clean_message(body))).items():
            counts[word] += min(n, 2)
    for word in dict.fromkeys(subject_words(subject)):
        counts[word] += SUBJECT_WEIGHT
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    return [(word, min(weight, 4)) for word, weight in ranked[:MAX_TERMS]]
