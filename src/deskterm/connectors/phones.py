"""Phone numbers as identities: E.164 through the ``phonenumbers`` library.

WhatsApp prints an unsaved contact as ``+1 (415) 555-0100``, often wrapped in
direction marks (U+202A … U+202C) and with no-break spaces; Slack profiles hold
whatever people typed. Both become ``+14155550100`` so the same person is the same
identity everywhere. Numbers without a country code are read in the configured
``[chat] default_region``.
"""

from __future__ import annotations

import re
from functools import lru_cache

_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_PHONE_LIKE = re.compile(r"^\+?[\d\s\u00a0\u202f\-().\u2010-\u2012]{6,}$")
_DIGITS = re.compile(r"\d")


def looks_like_phone(text: str) -> bool:
    """Whether ``text`` is a phone number rather than a name (digits and punctuation
    only, at least seven digits)."""
    text = _MARKS.sub("", text).strip()
    return bool(_PHONE_LIKE.match(text)) and len(_DIGITS.findall(text)) >= 7


@lru_cache(maxsize=65536)
def to_e164(text: str, region: str = "US") -> str | None:
    """``text`` as an E.164 number (``+14155550100``), or ``None`` if it is not one.

    "Possible" rather than "valid" numbers are accepted: a number the library's
    metadata does not know yet (new ranges, test numbers) is still that person's.
    """
    import phonenumbers

    text = _MARKS.sub("", text).strip()
    if not looks_like_phone(text):
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def check_region(region: str) -> str:
    """``region`` upper-cased if ``phonenumbers`` knows it; raises ``ValueError``."""
    import phonenumbers

    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"[chat] default_region {region!r} is not a known region code (ISO 3166).")
    return code
