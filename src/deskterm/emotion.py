"""Emotion cues on inbound messages (PRODUCT.md §5).

Each inbound message gets one of :data:`~deskterm.vocab.EMOTIONS` and a strength
from 0 to 1. Sentiment comes from VADER (``vaderSentiment``, a lexicon and rules
tuned for short social text, which ships its lexicon); support-specific cues decide
*which* negative emotion it is, because VADER only knows positive versus negative:

* **anger**: harsh or insulting words, threats (lawyer, chargeback), ALL CAPS,
  ``!!!`` and ``?!``;
* **frustration**: repetition (again, still, third time, how many times), chasing
  (any update, following up) and a *repeat contact*: the customer wrote within the
  last 24 hours and nobody answered in between;
* **anxiety**: worry words, deadlines and urgency, many questions, ``???``;
* **disappointment**: unmet expectations and withdrawal (let down, used to be,
  I guess, never mind, won't be renewing).

Only the customer's own words count: quoted replies and forwarded text are cut off
first, and long mail is read up to :data:`MAX_CHARS`.

The ticket screen shows the emotion with the response style to use
(:data:`RESPONSE_STYLES`, the table in PRODUCT.md §5).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deskterm.config import Config
    from deskterm.connectors.records import InboundRecord
    from deskterm.ingest.pipeline import HookContext

MAX_CHARS = 1500
VADER_CHARS = 800  # the opening is what sets the tone
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


# Cue phrases per emotion, with weights. Text is matched word by word (lower-cased,
# longest phrase first), which is several times faster than one regular expression
# per cue and keeps imports fast.
_LEXICON: dict[str, dict[float, str]] = {
    "anger": {
        2.0: "unacceptable, outrageous, ridiculous, pathetic, disgrace, disgraceful, disgusting,"
        " insulting, incompetent, useless, rubbish, garbage, scam, fraud, fraudulent, theft,"
        " thief, thieves, liar, liars, report you, leaving a review, bad review, furious,"
        " livid, outraged, fuming, appalled",
        2.5: "lawyer, lawyers, attorney, legal action, sue you, court, chargeback,"
        " dispute the charge, disputing the charge",
        1.5: "worst, terrible, horrible, awful, rude, hate, lied, a joke, shame on you, how dare,"
        " what the hell, what the heck, what the fuck, wtf, damn, bloody, crap, insane,"
        " kidding me, sick of",
        1.0: "i'm done, i am done, i demand, demand to, speak to a manager, immediately,"
        " right now, refund me, money back, in full, don't you dare",
    },
    "frustration": {
        1.2: "again, still, keep, keeps, kept, yet another, once more, over and over,"
        " every time, every single time",
        1.5: "second time, third time, fourth time, fifth time, second email, third email,"
        " second message, third message, fourth day, third day, any update, following up,"
        " follow up, checking in, chasing, is anyone reading, same error, same problem,"
        " same issue, same bug, same thing, back to square one, in circles, bounced,"
        " tired of, annoying, annoyed, fed up, lost hours, for days, for weeks, for ages,"
        " for months, no matter",
        2.0: "how many times, already told, already explained, already sent, already tried,"
        " already reported, already asked, repeating myself, still waiting, no reply,"
        " no one replied, no one has replied, nobody replied, nobody has replied,"
        " nobody has answered, no one has answered, nobody responded",
        1.0: "nothing works, doesn't work, does not work, didn't work, not working,"
        " still broken, stuck, nobody owns, been open, weeks ago, it isn't, it's not fixed",
    },
    "anxiety": {
        2.0: "worried, worry, afraid, scared, nervous, concerned, anxious, panic, panicking,"
        " frightened",
        1.5: "urgent, urgently, asap, emergency, right away, please help, help needed,"
        " lose everything, lose my, lose our, lose all, losing data, wrong iban,"
        " wrong account, wrong client, wrong address",
        1.2: "deadline, due on, due by, due today, due tomorrow, closes tonight, before the,"
        " before my, before i, before we, did you receive, did you get, is it normal,"
        " can it be stopped, accidentally",
        1.0: "tonight, tomorrow, by noon, in two hours, go live, goes live, launch today,"
        " launching today, will i, will my, will we, will our, will there, will it,"
        " will the, what happens if, what do i do, should i, should we, is there any way,"
        " is there a risk, can someone, please tell, please check, please confirm, recall it",
        1.8: "at risk, breach, hacked, stolen, attacked, security warning",
        0.8: "don't understand, not sure what, confused",
    },
    "disappointment": {
        2.5: "disappoint, disappointed, disappointing, disappointment, let down, letdown,"
        " underwhelmed, underwhelming",
        2.0: "expected more, expected better, expected a lot more, had hoped, high hopes,"
        " was hoping, looking forward, used to be, not what i expected,"
        " not what we expected, not what i was hoping, not what we were hoping,"
        " doesn't live up, won't be renewing, not renewing, another provider,"
        " move to another, switch to, switching to",
        1.5: "shame, pity, too bad, sadly, sad, unfortunately, oh well, spoiled, ignored,"
        " never mind, nevermind, i guess, i suppose, live with it, don't need it anymore,"
        " not worth",
        1.2: "cancel my, cancel our, cancel the, cancel at, went downhill, downhill,"
        " nothing like, thinner than, than advertised, promised, the reason we signed up,"
        " not the same, no alternative",
        1.0: "i thought, nobody told, nobody cares, at least",
    },
    "positive": {
        1.5: "thanks, thank, thank you, cheers, appreciate, appreciated, grateful, kudos,"
        " great, perfect, awesome, excellent, brilliant, fantastic, wonderful, amazing,"
        " lovely, love, happy, glad, pleased, made my day, super helpful, well done,"
        " works like a charm, works now, working now, works great, working great,"
        " works again, working again, problem solved, resolved, sorted, fixed it,"
        " did the trick, all good, back to normal, exactly what i needed",
    },
}
# Cues a word list cannot express, each with a literal that must occur first (a
# cheap test that spares the regular expression on most messages).
_PATTERNS = tuple(
    (emotion, weight, literal, re.compile(pattern))
    for emotion, weight, literal, pattern in (
        ("frustration", 1.5, "", r"\d(?:st|nd|rd|th) (?:time|email|message|day)\b"),
        ("frustration", 2.0, "hello?", r"\bhello\?"),
        ("anxiety", 1.5, "help!", r"\bhelp!"),
        ("anxiety", 1.0, " hours", r"\bin \d+ hours\b"),
        ("anxiety", 1.8, "is my ", r"\bis my \w+ (?:safe|at risk)\b"),
        ("anxiety", 1.2, " be stopped", r"\bcan the \w+ be stopped\b"),
    )
)
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _phrase_table() -> tuple[dict[tuple[str, ...], tuple[str, float]], int]:
    table: dict[tuple[str, ...], tuple[str, float]] = {}
    for emotion, by_weight in _LEXICON.items():
        for weight, phrases in by_weight.items():
            for phrase in phrases.split(","):
                words = tuple(_TOKEN.findall(phrase.strip().lower()))
                if words in table:
                    raise ValueError(f"emotion cue {phrase!r} is listed twice")
                table[words] = (emotion, weight)
    return table, max(len(k) for k in table)


_PHRASES, _LONGEST = _phrase_table()
_STARTS = {k[:2] for k in _PHRASES if len(k) > 1}
_SINGLE = {k[0] for k in _PHRASES if len(k) == 1}
_CLASSES = ("anger", "frustration", "anxiety", "disappointment")


def _match_cues(text: str) -> tuple[dict[str, float], list[str]]:
    """Weighted cue totals per emotion (each cue counted at most twice), and the cues."""
    lowered = text.lower().replace("\u2019", "'")
    words = _TOKEN.findall(lowered)
    counts: dict[tuple[str, ...], int] = {}
    i, n = 0, len(words)
    while i < n:
        word = words[i]
        if i + 1 < n and (word, words[i + 1]) in _STARTS:
            for length in range(min(_LONGEST, n - i), 1, -1):
                key = tuple(words[i : i + length])
                if key in _PHRASES:
                    counts[key] = counts.get(key, 0) + 1
                    i += length
                    break
            else:
                if word in _SINGLE:
                    counts[(word,)] = counts.get((word,), 0) + 1
                i += 1
        else:
            if word in _SINGLE:
                counts[(word,)] = counts.get((word,), 0) + 1
            i += 1
    totals = dict.fromkeys((*_CLASSES, "positive"), 0.0)
    cues: list[str] = []
    for key, count in counts.items():
        emotion, weight = _PHRASES[key]
        totals[emotion] += weight * min(count, 2)
        cues.append(f"{emotion}:{' '.join(key)}")
    for emotion, weight, literal, pattern in _PATTERNS:
        if literal in lowered:
            for match in pattern.finditer(lowered):
                totals[emotion] += weight
                cues.append(f"{emotion}:{match.group(0)}")
    return totals, cues


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
_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_CAPS_WORD = re.compile(r"\b[A-Z]{2,}\b")
_WORD = re.compile(r"\b[A-Za-z]{2,}\b")
_BANGS = re.compile(r"!{3,}|\?!|!\?")


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
    """One message's emotion, its strength (0–1), VADER's compound score, and why."""

    emotion: str
    score: float
    compound: float
    cues: tuple[str, ...] = ()


@dataclass
class EmotionAnalyzer:
    """VADER plus support cues; build one and reuse it (loading VADER takes ~50 ms)."""

    _vader: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._vader = SentimentIntensityAnalyzer()

    def analyze(
        self, body: str, subject: str = "", *, repeat_contact: bool = False
    ) -> EmotionResult:
        """Classify one inbound message (``subject`` is read too, for mail)."""
        return decide(self.features(body, subject), repeat_contact=repeat_contact)

    def features(self, body: str, subject: str = "") -> TextFeatures:
        """What the text itself says: the costly part, which needs no other message and
        can run in a parse worker (mail does)."""
        text = own_text(body)
        if subject:
            text = f"{subject.strip()}\n{text}"
        if not text.strip():
            return TextFeatures(empty=True)
        compound = self._compound(text[:VADER_CHARS])
        scores, cues = _match_cues(text)
        positive = scores.pop("positive")
        self._signals(text, scores, cues)
        loud = "!" in text or bool(_CAPS_WORD.search(text))
        return TextFeatures(compound, tuple(scores.items()), positive, tuple(cues), loud)

    def _compound(self, text: str) -> float:
        """VADER's compound score, sentence by sentence, averaged over the sentences
        that carry sentiment. VADER's authors recommend sentence-level scoring for
        longer text, and its cost grows with the square of a sentence's length.

        A sentence with no word of VADER's lexicon scores 0 whatever else it holds
        (boosters and negations only modify lexicon words), so it is not scored;
        non-ASCII text always is, since VADER reads emoji as words.
        """
        lexicon = self._vader.lexicon
        felt = []
        for part in _SENTENCE.split(text):
            if not part.strip():
                continue
            if part.isascii() and not any(
                w in lexicon or w.strip(_PUNCTUATION) in lexicon for w in part.lower().split()
            ):
                continue
            score = float(self._vader.polarity_scores(part)["compound"])
            if score:
                felt.append(score)
        return sum(felt) / len(felt) if felt else 0.0

    @staticmethod
    def _signals(text: str, scores: dict[str, float], cues: list[str]) -> None:
        # Cheap tests first: most mail has no capitals run and no "!!!".
        caps = len(_CAPS_WORD.findall(text))
        if caps >= 3 and caps >= 0.6 * len(_WORD.findall(text)):
            scores["anger"] += 3.0
            cues.append("signal:all-caps")
        if "!" in text and _BANGS.search(text):
            scores["anger"] += 1.5
            cues.append("signal:!!!")
        if "???" in text:
            scores["anxiety"] += 1.5
            cues.append("signal:???")
        questions = text.count("?")
        if questions >= 3:
            scores["anxiety"] += 1.0 + 0.5 * min(questions - 3, 3)
            cues.append("signal:many-questions")


@dataclass(frozen=True)
class TextFeatures:
    """The text analysis of one message, before the contact history is known."""

    compound: float = 0.0
    scores: tuple[tuple[str, float], ...] = ()
    positive: float = 0.0
    cues: tuple[str, ...] = ()
    loud: bool = False
    empty: bool = False


def decide(features: TextFeatures, *, repeat_contact: bool = False) -> EmotionResult:
    """The emotion from a message's text features and whether it is a repeat contact."""
    if features.empty:
        return EmotionResult("neutral", 0.0, 0.0)
    compound, positive = features.compound, features.positive
    scores = dict(features.scores)
    cues = list(features.cues)
    if repeat_contact:
        scores["frustration"] += 2.5
        cues.append("signal:repeat-contact")
    # Sentiment decides between the negative emotions and the rest: a strongly
    # negative message with no cue leans to anger if loud, else disappointment.
    if compound <= -0.5 and max(scores.values()) < 1.0:
        scores["anger" if features.loud else "disappointment"] += 1.0
        cues.append("vader:negative")
    best = max(scores, key=lambda k: scores[k])
    negative = scores[best]
    if positive >= 1.5 and (negative < 1.5 or (compound >= 0.6 and negative < positive)):
        strength = min(1.0, 0.4 + 0.6 * max(compound, 0.0))
        return EmotionResult("positive", round(strength, 2), compound, tuple(cues))
    if negative < 1.0:
        if compound >= 0.5:
            return EmotionResult("positive", round(0.3 + 0.5 * compound, 2), compound, tuple(cues))
        return EmotionResult("neutral", round(1.0 - abs(compound), 2), compound, tuple(cues))
    strength = min(1.0, 0.25 + 0.12 * negative + 0.35 * max(-compound, 0.0))
    return EmotionResult(best, round(strength, 2), compound, tuple(cues))


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
    """The process-wide analyzer (VADER's lexicon is loaded once)."""
    global _shared
    if _shared is None:
        _shared = EmotionAnalyzer()
    return _shared


def classify(body: str, subject: str = "", *, repeat_contact: bool = False) -> EmotionResult:
    """Classify one message with the shared analyzer."""
    return analyzer().analyze(body, subject, repeat_contact=repeat_contact)


# -- the ingest hook ---------------------------------------------------------------------


def emotion_enabled(config: Config) -> bool:
    """``[emotion] enabled = false`` switches emotion cues off at ingest."""
    from deskterm.config import ConfigError

    value = config.section("emotion").get("enabled", True)
    if not isinstance(value, bool):
        raise ConfigError("emotion.enabled must be true or false.")
    return value


class EmotionHook:
    """Sets the emotion of inbound messages, and the ticket's to the latest one.

    VADER is the most expensive step of an import, so by default a message is scored
    where its emotion is used: the latest customer message of each ticket in a batch
    (which becomes the ticket's emotion). Live mail and small syncs come one message
    per ticket per batch, so every message is scored; a bulk import of history skips
    the messages that are superseded within their batch (their emotion stays empty).
    ``eager`` scores every message as it arrives: triage rules that test the emotion
    need it before they run.

    The repeat-contact signal needs the customer's recent messages: earlier runs are
    asked of the store, this run's (not committed yet) are remembered here.
    """

    def __init__(self, detector: EmotionAnalyzer | None = None, *, eager: bool = False) -> None:
        self.detector = detector or analyzer()
        self.eager = eager
        self._recent: dict[int, list[tuple[Any, str]]] = {}
        self._history: dict[int, bool] = {}
        self._pending: dict[int, tuple[HookContext, bool]] = {}

    def __call__(self, ctx: HookContext) -> None:
        record = ctx.record
        customer = ctx.customer_id
        if customer is not None and ctx.direction in ("inbound", "outbound"):
            if customer not in self._history:
                # Asked when this run first meets the customer, before any of the run's
                # messages are written: later batches would find this run's own rows.
                from deskterm.store.workflow import customer_has_messages

                self._history[customer] = customer_has_messages(ctx.writer.conn, customer)
            seen = self._recent.setdefault(customer, [])
            bisect.insort(seen, (record.sent_at, ctx.direction))  # by time, even if late
            if len(seen) > 512:
                del seen[:256]
        if ctx.direction != "inbound":
            return
        # Newest message of its ticket so far (the pipeline has applied it already)?
        latest = ctx.ticket.emotion is None or record.sent_at >= ctx.ticket.updated_at
        if self.eager:
            self._score(ctx, latest)
            return
        earlier = self._pending.get(ctx.ticket.id)
        if earlier is None or record.sent_at >= earlier[0].record.sent_at:
            self._pending[ctx.ticket.id] = (ctx, latest)

    def end_batch(self) -> None:
        """Score the latest customer message of each ticket the batch touched."""
        pending, self._pending = self._pending, {}
        for ctx, latest in pending.values():
            self._score(ctx, latest)

    def _score(self, ctx: HookContext, latest: bool) -> None:
        record = ctx.record
        customer = ctx.customer_id
        # Only messages before this one count, so asking after the batch is the same.
        repeat = customer is not None and self._repeat_contact(ctx, customer)
        features = record.analysis
        if not isinstance(features, TextFeatures):  # not analyzed in a parse worker
            features = self.detector.features(*scored_text(record))
        result = decide(features, repeat_contact=repeat)
        ctx.message["emotion"] = result.emotion
        ctx.message["emotion_score"] = result.score
        ticket = ctx.ticket
        if latest and (ticket.emotion, ticket.emotion_score) != (result.emotion, result.score):
            ticket.emotion = result.emotion
            ticket.emotion_score = result.score
            ticket.dirty = True

    def _repeat_contact(self, ctx: HookContext, customer: int) -> bool:
        from deskterm.store.workflow import recent_contact

        at = ctx.record.sent_at
        # A customer with no stored messages when this run first met them (most of a
        # first import) has all their history in this run's memory: no query needed.
        last_in = last_out = None
        if self._history.get(customer, True):
            last_in, last_out = recent_contact(ctx.writer.conn, customer, at, REPEAT_WINDOW)
        seen = self._recent.get(customer, [])
        # Walk back from the newest contact before this message until one of each
        # direction is found or the window is left.
        found_in = found_out = False
        for when, direction in reversed(seen[: bisect.bisect_left(seen, (at, ""))]):
            if when < at - REPEAT_WINDOW or (found_in and found_out):
                break
            if direction == "inbound" and not found_in:
                found_in = True
                if last_in is None or when > last_in:
                    last_in = when
            elif direction == "outbound" and not found_out:
                found_out = True
                if last_out is None or when > last_out:
                    last_out = when
        if last_in is None or at - last_in < REPEAT_MIN_GAP:
            return False
        return last_out is None or last_out < last_in
