"""Broadcast texts: what each recipient reads, and which texts are accepted. Pure.

The coordinator writes the text in Norwegian; SMS info messages get a short footer telling
how to stop them, counted in the message's segments.
"""

from __future__ import annotations

import re

STOP_FOOTER = "Svar STOPP for å melde deg av."
#: Twilio takes at most 1,600 characters; Telegram 4,096 UTF-16 code units.
MAX_SMS_CHARS = 1600
MAX_TEXT = MAX_SMS_CHARS - len(STOP_FOOTER) - 2
#: What a broadcast text may hold: at least one visible character, no control characters
#: but line breaks and tabs.
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
TEXT_PATTERN = rf"^[^{_CONTROL}]*[^\s{_CONTROL}][^{_CONTROL}]*$"
_TEXT = re.compile(TEXT_PATTERN.removeprefix("^").removesuffix("$"), re.DOTALL)


class TextError(ValueError):
    """A broadcast text that cannot be sent; the message says why (English)."""


def check_text(text: str) -> str:
    """The text as given, once it is one a broadcast can carry."""
    if not _TEXT.fullmatch(text):
        raise TextError("the text must have a visible character and no control characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise TextError("the text is not valid Unicode (a lone surrogate)") from None
    if len(text) > MAX_TEXT:
        raise TextError(f"the text is {len(text)} characters: at most {MAX_TEXT}")
    return text


def sms_body(text: str) -> str:
    """An info SMS: the text, then how to stop such messages."""
    return f"{text.rstrip()}\n\n{STOP_FOOTER}"


def body_for(channel: str, text: str) -> str:
    """What a recipient on `channel` reads."""
    return sms_body(text) if channel == "sms" else text
