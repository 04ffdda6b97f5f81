"""TwiML documents of the phone line, built with the `twilio` package.

URLs are absolute under `HELPLINE_PUBLIC_URL`, the base Twilio signs requests against.
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from helpline.settings import Settings
from routing import texts
from routing.call_plan import DialStep

LANGUAGE = "nb-NO"
SCREEN_TIMEOUT = 10  # seconds the staff member has to press 1


class VoiceTwiml:
    """Renders the call's steps; one per app, configured from settings."""

    def __init__(self, settings: Settings) -> None:
        self._base = settings.public_url
        self._voice = settings.voice
        self._dial_timeout = settings.dial_timeout
        self._max_recording = settings.voicemail_max_seconds

    def _response(self, *sayings: str) -> VoiceResponse:
        response = VoiceResponse()
        for text in sayings:
            response.say(text, language=LANGUAGE, voice=self._voice)
        return response

    def say(self, text: str) -> str:
        return str(self._response(text))

    def say_and_hang_up(self, text: str) -> str:
        response = self._response(text)
        response.hangup()
        return str(response)

    def empty(self) -> str:
        """An empty document: on a `<Number url>` leg it means "connect now"."""
        return str(VoiceResponse())

    def hang_up(self) -> str:
        response = VoiceResponse()
        response.hangup()
        return str(response)

    def dial(self, say: str, step: DialStep, contact_id: int, caller_id: str) -> str:
        """Say `say`, then ring one step with screening; the action decides what follows."""
        response = self._response(say)
        query = f"contact={contact_id}&step={step.index}"
        dial = response.dial(
            timeout=self._dial_timeout,
            answer_on_bridge=True,
            caller_id=caller_id,
            action=f"{self._base}/twilio/voice/dialled?{query}",
            method="POST",
        )
        dial.number(step.phone, url=f"{self._base}/twilio/voice/screen?{query}", method="POST")
        return str(response)

    def screening(self, whisper: str, contact_id: int, step: int) -> str:
        """The whisper on the staff member's leg: press 1 to take the call."""
        response = VoiceResponse()
        gather = response.gather(
            num_digits=1,
            timeout=SCREEN_TIMEOUT,
            action=f"{self._base}/twilio/voice/screened?contact={contact_id}&step={step}",
            method="POST",
            action_on_empty_result=True,
        )
        gather.say(whisper, language=LANGUAGE, voice=self._voice)
        response.say(texts.whisper_no_key(), language=LANGUAGE, voice=self._voice)
        response.hangup()
        return str(response)

    def voicemail(self, contact_id: int) -> str:
        response = self._response(texts.voicemail_prompt())
        response.record(
            max_length=self._max_recording,
            play_beep=True,
            finish_on_key="#",
            action=f"{self._base}/twilio/voice/recorded?contact={contact_id}",
            method="POST",
        )
        response.say(texts.voicemail_thanks(), language=LANGUAGE, voice=self._voice)
        response.hangup()
        return str(response)

    def fallback(self, phone: str | None) -> str:
        """When nothing can be looked up: ring the fallback number, or at least say the
        emergency numbers."""
        if phone is None:
            return self.say_and_hang_up(texts.no_service())
        response = self._response(texts.fallback_greeting())
        dial = response.dial(timeout=60, answer_on_bridge=True)
        dial.number(phone)
        response.say(texts.no_service(), language=LANGUAGE, voice=self._voice)
        return str(response)
