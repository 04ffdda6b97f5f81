"""TwiML documents of the phone line.

Written as strings, byte for byte what the `twilio` package's `VoiceResponse` writes
(`tests/unit/test_twiml.py` holds them to it): a call step answers in well under a
millisecond this way, where building and serialising an element tree took several.
Everything constant (a settings-wide `<Say>` prefix, the fixed documents) is made once
per app; a step only escapes and joins what varies. URLs are absolute under
`HELPLINE_PUBLIC_URL`, the base Twilio signs requests against.
"""

from __future__ import annotations

from functools import lru_cache

from helpline.settings import Settings
from routing import texts
from routing.call_plan import DialStep

LANGUAGE = "nb-NO"
SCREEN_TIMEOUT = 10  # seconds the staff member has to press 1
FALLBACK_DIAL_TIMEOUT = 60
HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
HANGUP = "<Hangup />"


def text(value: str) -> str:
    """Character data escaped as ElementTree escapes it."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def attribute(value: str) -> str:
    """An attribute value escaped as ElementTree escapes it."""
    escaped = text(value).replace('"', "&quot;")
    return escaped.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")


def document(*parts: str) -> str:
    return f"{HEAD}<Response>{''.join(parts)}</Response>" if parts else f"{HEAD}<Response />"


class VoiceTwiml:
    """Renders the call's steps; one per app, configured from settings."""

    def __init__(self, settings: Settings) -> None:
        base = attribute(settings.public_url)
        self._say_open = f'<Say language="{LANGUAGE}" voice="{attribute(settings.voice)}">'
        self._dialled = f"{base}/twilio/voice/dialled?contact="
        self._screen = f"{base}/twilio/voice/screen?contact="
        self._screened = f"{base}/twilio/voice/screened?contact="
        self._recorded = f"{base}/twilio/voice/recorded?contact="
        self._dial_timeout = f'method="POST" timeout="{settings.dial_timeout}">'
        self._record = (
            f'finishOnKey="#" maxLength="{settings.voicemail_max_seconds}" method="POST" '
            'playBeep="true" />'
        )
        self._no_key = self._say(texts.whisper_no_key())
        self._thanks = self._say(texts.voicemail_thanks())
        self._empty = document()
        self._hang_up = document(HANGUP)
        self._no_service = document(self._say(texts.no_service()), HANGUP)
        self._said = lru_cache(maxsize=256)(self._said_uncached)

    def _say(self, words: str) -> str:
        return f"{self._say_open}{text(words)}</Say>"

    def _said_uncached(self, words: str) -> str:
        return self._say(words)

    def say(self, words: str) -> str:
        return document(self._said(words))

    def say_and_hang_up(self, words: str) -> str:
        return document(self._said(words), HANGUP)

    def empty(self) -> str:
        """An empty document: on a `<Number url>` leg it means "connect now"."""
        return self._empty

    def hang_up(self) -> str:
        return self._hang_up

    def dial(self, say: str, step: DialStep, contact_id: int, caller_id: str) -> str:
        """Say `say`, then ring one step with screening; the action decides what follows."""
        query = f"{contact_id}&amp;step={step.index}"
        return document(
            self._said(say),
            f'<Dial action="{self._dialled}{query}" answerOnBridge="true" '
            f'callerId="{attribute(caller_id)}" {self._dial_timeout}'
            f'<Number method="POST" url="{self._screen}{query}">{text(step.phone)}</Number>'
            "</Dial>",
        )

    def screening(self, whisper: str, contact_id: int, step: int) -> str:
        """The whisper on the staff member's leg: press 1 to take the call."""
        return document(
            f'<Gather action="{self._screened}{contact_id}&amp;step={step}" '
            f'actionOnEmptyResult="true" method="POST" numDigits="1" timeout="{SCREEN_TIMEOUT}">'
            f"{self._say(whisper)}</Gather>",
            self._no_key,
            HANGUP,
        )

    def voicemail(self, contact_id: int) -> str:
        return document(
            self._said(texts.voicemail_prompt()),
            f'<Record action="{self._recorded}{contact_id}" {self._record}',
            self._thanks,
            HANGUP,
        )

    def fallback(self, phone: str | None) -> str:
        """When nothing can be looked up: ring the fallback number, or at least say the
        emergency numbers."""
        if phone is None:
            return self._no_service
        return document(
            self._said(texts.fallback_greeting()),
            f'<Dial answerOnBridge="true" timeout="{FALLBACK_DIAL_TIMEOUT}">'
            f"<Number>{text(phone)}</Number></Dial>",
            self._say(texts.no_service()),
        )
