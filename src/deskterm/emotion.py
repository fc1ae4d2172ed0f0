"""Emotion cues on inbound messages (PRODUCT.md §5).

Each inbound message gets one of :data:`~deskterm.vocab.EMOTIONS`, a strength from 0
to 1 and the cues behind it, for the agent to see. Two layers:

* **the model** (:mod:`deskterm.emotion_model`): a multinomial logistic regression
  over the message's words and word pairs, VADER's lexicon valences (the
  ``vaderSentiment`` package's word list), capitals, ``!!!`` and questions, trained
  on text labelled by others (GoEmotions) and support-style messages;
  ``bench/bench_emotion.py`` measures it on data it was not trained on;
* **support cues on top**, which a model trained on Reddit comments cannot know: a
  *repeat contact* (the customer wrote within the last 24 hours and nobody answered
  in between) leans to frustration, and threats of lawyers or chargebacks to anger.

Only the customer's own words count: quoted replies and forwarded text are cut off
first, and long mail is read up to :data:`MAX_CHARS` (the model reads the first
:data:`~deskterm.emotion_model.MODEL_CHARS` of those).

The ticket screen shows the emotion with the response style to use
(:data:`RESPONSE_STYLES`, the table in PRODUCT.md §5).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from deskterm.emotion_model import CLASSES, DENSE, model, softmax

if TYPE_CHECKING:
    from deskterm.connectors.records import InboundRecord

MAX_CHARS = 1500
REPEAT_WINDOW = timedelta(hours=24)
# Messages closer together than this are one contact (chat bursts), not a repeat.
REPEAT_MIN_GAP = timedelta(minutes=30)


@dataclass(frozen=True)
class ResponseStyle:
    """How to answer a customer who feels this way."""

    behaviour: str
    style: str
    hint: str


RESPONSE_STYLES: dict[str, ResponseStyle] = {
    "frustration": ResponseStyle(
        "Repeated complaints",
        "Calm and validating",
        "Acknowledge the repeats and the effort they cost; give one clear next step.",
    ),
    "anger": ResponseStyle(
        "Harsh tone",
        "Empathetic and steady",
        "Stay even; name the impact, own what went wrong, say what you will do.",
    ),
    "anxiety": ResponseStyle(
        "Many questions",
        "Reassuring and clear",
        "Answer every question in order, plainly; say what happens next and when.",
    ),
    "disappointment": ResponseStyle(
        "Withdrawal or silence",
        "Supportive and proactive",
        "Reach out before they ask; offer something concrete to rebuild trust.",
    ),
}


def response_style(emotion: str | None) -> ResponseStyle | None:
    """The response style to suggest for an emotion (``None`` for neutral/positive)."""
    return RESPONSE_STYLES.get(emotion or "")


# Support cues on top of the model, as additions to its class scores (logits): what
# a model trained mostly on Reddit comments cannot learn. Set by hand from the
# behaviours in PRODUCT.md §5, not fitted: the tune half of the support set is in the
# model's training data, so it cannot tell these weights apart.
REPEAT_BOOST = 2.5  # frustration, for a repeat contact
_THREATS = frozenset(
    [
        "lawyer",
        "lawyers",
        "attorney",
        "solicitor",
        "legal action",
        "sue",
        "suing",
        "sue you",
        "court",
        "chargeback",
        "ombudsman",
    ]
)
THREAT_BOOST = 2.5  # anger: a threat of lawyers or chargebacks
CAPS_BOOST = 1.5  # anger, for a message mostly in capitals
QUESTIONS_BOOST = 1.5  # anxiety, for three question marks or more
# Shown as cues (the model weighs these words itself).
_MONEY = frozenset(["refund", "refunds", "money back", "cancel", "cancelled", "unsubscribe"])


# Where a reply's quoted history starts: "On … wrote:" (and translations) or an
# Outlook-style header block. Forwarded messages and signatures end the customer's
# own words too, for emotion; triage keeps forwarded text (see new_text()).
_REPLY_HEADER = (
    r"On .{4,200}wrote:|Am .{4,200}schrieb.*:|Le .{4,200}a écrit\s*:|El .{4,200}escribió:|"
    r"-{2,} ?Original Message ?-{2,}"
)
_QUOTE_START = re.compile(
    rf"^(?:{_REPLY_HEADER}|-{{2,}} ?Forwarded message ?-{{2,}}|From: .+|Sent from my \w+)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_REPLY_START = re.compile(rf"^(?:{_REPLY_HEADER})\s*$", re.IGNORECASE | re.MULTILINE)


def _unquoted(body: str, start: re.Pattern[str]) -> str:
    match = start.search(body)
    if match:
        body = body[: match.start()]
    if ">" in body:
        body = "\n".join(line for line in body.splitlines() if not line.lstrip().startswith(">"))
    return body.strip()


def own_text(body: str) -> str:
    """The customer's own words: quoted lines, reply headers and signatures cut off."""
    return _unquoted(body, _QUOTE_START)[:MAX_CHARS]


def new_text(body: str) -> str:
    """What a message adds to the conversation: quoted earlier messages cut off, but a
    forwarded message kept (triage rules match on it)."""
    return _unquoted(body, _REPLY_START)


@dataclass(frozen=True)
class EmotionResult:
    """One message's emotion, its strength (0–1, the model's probability for it), its
    polarity (−1 negative … 1 positive: the positive class's probability less the
    negative classes'), and the cues behind it, for the agent to see."""

    emotion: str
    score: float
    compound: float
    cues: tuple[str, ...] = ()


@dataclass(frozen=True)
class TextFeatures:
    """The text analysis of one message, before the contact history is known: the
    class scores (logits, in :data:`~deskterm.emotion_model.CLASSES` order), the
    n-grams that pushed hardest toward the top class, and the text's own cues."""

    logits: tuple[float, ...] = ()
    words: tuple[str, ...] = ()
    cues: tuple[str, ...] = ()
    empty: bool = False


class EmotionAnalyzer:
    """The model plus support cues; cheap to build (the model loads on first use,
    once per process)."""

    def analyze(
        self, body: str, subject: str = "", *, repeat_contact: bool = False
    ) -> EmotionResult:
        """Classify one inbound message (``subject`` is read too, for mail)."""
        features = self.features(body, subject, explain=True)
        return decide(features, repeat_contact=repeat_contact)

    def features(self, body: str, subject: str = "", *, explain: bool = False) -> TextFeatures:
        """What the text itself says: the costly part, which needs no other message and
        can run in a parse worker (mail does). ``explain`` adds the words behind the
        estimate to the cues (imports store only the emotion and its strength)."""
        text = own_text(body)
        if subject:
            text = f"{subject.strip()}\n{text}"
        if not text.strip():
            return TextFeatures(empty=True)
        scores = model().score(text, explain=explain)
        logits = list(scores.logits)
        cues = []
        threats = _THREATS.intersection(scores.grams)
        if threats:
            logits[_ANGER] += THREAT_BOOST
            cues.extend(sorted(threats))
        cues.extend(sorted(_MONEY.intersection(scores.grams)))
        cues.extend(_signals(text, scores.signals[DENSE.index("caps")], logits))
        words = scores.words
        if words and _top(logits) != _top(scores.logits):
            words = ()  # they argue for the class the cues overruled
        return TextFeatures(tuple(logits), words, tuple(cues))


_ANGER = CLASSES.index("anger")
_FRUSTRATION = CLASSES.index("frustration")
_ANXIETY = CLASSES.index("anxiety")
_NEUTRAL = CLASSES.index("neutral")
_POSITIVE = CLASSES.index("positive")
_NEGATIVE = tuple(CLASSES.index(c) for c in ("anger", "frustration", "anxiety", "disappointment"))


def _signals(text: str, caps: float, logits: list[float]) -> list[str]:
    """Loudness and questions, named for the agent. The model weighs them as Reddit
    uses them (capitals and questions there are mostly excitement and curiosity); in
    support mail shouting reads as anger and a string of questions as anxiety
    (PRODUCT.md §5), so those add to the model's scores."""
    cues = []
    opening = text[:1000]
    if "!!!" in opening:
        cues.append("!!!")
    if caps >= 0.5:
        logits[_ANGER] += CAPS_BOOST
        cues.append("ALL CAPS")
    questions = opening.count("?")
    if questions >= 3:
        logits[_ANXIETY] += QUESTIONS_BOOST
        cues.append(f"{questions} questions")
    return cues


def _top(scores: Sequence[float]) -> int:
    return max(range(len(scores)), key=scores.__getitem__)


def decide(features: TextFeatures, *, repeat_contact: bool = False) -> EmotionResult:
    """The emotion from a message's text features and whether it is a repeat contact."""
    if features.empty or not features.logits:
        return EmotionResult("neutral", 0.0, 0.0)
    logits = list(features.logits)
    text_best = _top(logits)
    cues = []
    if repeat_contact:
        # Writing again unanswered is frustration even in plain words: it beats a
        # neutral reading, and adds weight against the others.
        logits[_FRUSTRATION] = max(logits[_FRUSTRATION] + REPEAT_BOOST, logits[_NEUTRAL] + 0.5)
        cues.append("repeat contact within 24 h")
    probs = softmax(logits)
    best = _top(probs)
    cues.append(f"model {probs[best]:.2f}")
    if best == text_best and features.words:
        cues.append("words: " + ", ".join(features.words))
    cues.extend(features.cues)
    polarity = probs[_POSITIVE] - sum(probs[k] for k in _NEGATIVE)
    return EmotionResult(CLASSES[best], round(probs[best], 2), round(polarity, 2), tuple(cues))


_shared: EmotionAnalyzer | None = None


def scored_text(record: InboundRecord) -> tuple[str, str]:
    """(body, subject) whose words count for a message's emotion: the one rule used by
    parse workers and by the ingest hook. The subject counts only for a message that
    opens a conversation: a reply's subject repeats the first message's."""
    opens = not (record.in_reply_to or record.references)
    return record.body, record.subject if opens else ""


def worker_features(agents: frozenset[str], record: InboundRecord) -> TextFeatures | None:
    """Text features computed in a parse worker for a message that will be scored (one
    not from ``agents``), so the single writer process does not have to."""
    if record.author.value in agents:
        return None
    return analyzer().features(*scored_text(record))


def analyzer() -> EmotionAnalyzer:
    """The process-wide analyzer."""
    global _shared
    if _shared is None:
        _shared = EmotionAnalyzer()
    return _shared


def classify(body: str, subject: str = "", *, repeat_contact: bool = False) -> EmotionResult:
    """Classify one message with the shared analyzer."""
    return analyzer().analyze(body, subject, repeat_contact=repeat_contact)


def explain(body: str, subject: str, emotion: str | None) -> tuple[str, ...]:
    """The cues behind a stored ``emotion`` of a message, for the agent to see.

    The store keeps only the emotion and its strength, so the text is scored again;
    if the text alone reads otherwise, the one signal not in the text (a repeat
    contact) is tried. Nothing is returned when neither matches (the message was
    scored by an older model)."""
    if not emotion:
        return ()
    detector = analyzer()
    features = detector.features(body, subject, explain=True)
    for repeat in (False, True):
        result = decide(features, repeat_contact=repeat)
        if result.emotion == emotion:
            return result.cues
    return ()
