"""The phone line's TwiML, written as strings, is byte for byte what the `twilio`
package's `VoiceResponse` writes for the same documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from twilio.twiml.voice_response import VoiceResponse

from helpline.settings import Settings
from helpline.twiml import LANGUAGE, SCREEN_TIMEOUT, VoiceTwiml
from routing import texts
from routing.call_plan import DialStep

TRICKY = ["Hei", 'Familien "Ås" & <Berg>', "tab\there\nnewline\rcr", "Ærlig talt – ø, å"]


def _settings(tmp_path: Path, base: str = "https://hjelp.example.no") -> Settings:
    return Settings.from_mapping({"HELPLINE_PUBLIC_URL": base, "HELPLINE_DATA_DIR": str(tmp_path)})


class Reference:
    """The documents as `twilio.twiml` builds them (as `helpline.twiml` once did)."""

    def __init__(self, settings: Settings) -> None:
        self.base, self.voice = settings.public_url, settings.voice
        self.settings = settings

    def _response(self, *sayings: str) -> VoiceResponse:
        response = VoiceResponse()
        for words in sayings:
            response.say(words, language=LANGUAGE, voice=self.voice)
        return response

    def say_and_hang_up(self, words: str) -> str:
        response = self._response(words)
        response.hangup()
        return str(response)

    def dial(self, say: str, step: DialStep, contact_id: int, caller_id: str) -> str:
        response = self._response(say)
        query = f"contact={contact_id}&step={step.index}"
        dial = response.dial(
            timeout=self.settings.dial_timeout,
            answer_on_bridge=True,
            caller_id=caller_id,
            action=f"{self.base}/twilio/voice/dialled?{query}",
            method="POST",
        )
        dial.number(step.phone, url=f"{self.base}/twilio/voice/screen?{query}", method="POST")
        return str(response)

    def screening(self, whisper: str, contact_id: int, step: int) -> str:
        response = VoiceResponse()
        gather = response.gather(
            num_digits=1,
            timeout=SCREEN_TIMEOUT,
            action=f"{self.base}/twilio/voice/screened?contact={contact_id}&step={step}",
            method="POST",
            action_on_empty_result=True,
        )
        gather.say(whisper, language=LANGUAGE, voice=self.voice)
        response.say(texts.whisper_no_key(), language=LANGUAGE, voice=self.voice)
        response.hangup()
        return str(response)

    def voicemail(self, contact_id: int) -> str:
        response = self._response(texts.voicemail_prompt())
        response.record(
            max_length=self.settings.voicemail_max_seconds,
            play_beep=True,
            finish_on_key="#",
            action=f"{self.base}/twilio/voice/recorded?contact={contact_id}",
            method="POST",
        )
        response.say(texts.voicemail_thanks(), language=LANGUAGE, voice=self.voice)
        response.hangup()
        return str(response)

    def fallback(self, phone: str | None) -> str:
        if phone is None:
            return self.say_and_hang_up(texts.no_service())
        response = self._response(texts.fallback_greeting())
        dial = response.dial(timeout=60, answer_on_bridge=True)
        dial.number(phone)
        response.say(texts.no_service(), language=LANGUAGE, voice=self.voice)
        return str(response)


@pytest.mark.parametrize("words", TRICKY)
def test_every_document_is_what_the_twilio_package_writes(tmp_path: Path, words: str) -> None:
    settings = _settings(tmp_path, "https://hjelp.example.no/a&b")
    ours, theirs = VoiceTwiml(settings), Reference(settings)
    step = DialStep(3, "primary", words, "+4711111111")
    assert ours.dial(words, step, 42, "+4767000001") == theirs.dial(words, step, 42, "+4767000001")
    assert ours.screening(words, 42, 3) == theirs.screening(words, 42, 3)
    assert ours.say_and_hang_up(words) == theirs.say_and_hang_up(words)
    assert ours.say(words) == str(theirs._response(words))
    assert ours.voicemail(7) == theirs.voicemail(7)
    assert ours.fallback("+4740000000") == theirs.fallback("+4740000000")
    assert ours.fallback(None) == theirs.fallback(None)
    assert ours.empty() == str(VoiceResponse())
    hang_up = VoiceResponse()
    hang_up.hangup()
    assert ours.hang_up() == str(hang_up)
