"""The call player: rings a helpline number and follows the TwiML the service answers.

It posts the webhooks Twilio would post (`helpline.simulator.webhooks`), rings the numbers
the service dials, plays each callee's screening leg (the whisper) and writes down what
everyone hears in the `Transcript`. Who picks up is an `AnswerPolicy`.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable

import aiohttp

from helpline.simulator.forms import call_params, random_sid, recording_params
from helpline.simulator.legs import End, Leg, Ring, Step
from helpline.simulator.policy import AnswerPolicy, Reaction, canonical_phone
from helpline.simulator.transcript import Outcome, Transcript
from helpline.simulator.webhooks import (
    Document,
    Endpoint,
    Stop,
    Webhooks,
    int_attr,
    method_of,
    resolve,
)

VOICE_PATH = "/twilio/voice"
STATUS_PATH = "/twilio/status"

#: The key an accepting callee presses when the screening leg asks.
ACCEPT_DIGIT = "1"
DEFAULT_MAX_REQUESTS = 50
#: Simulated seconds of a bridged conversation and of a voicemail message.
TALK_SECONDS = 60
VOICEMAIL_SECONDS = 12
#: What Twilio says to the caller when the service fails (what callers report hearing).
APPLICATION_ERROR_TEXT = "We are sorry, an application error has occurred. Goodbye."

_WORDS_PER_SECOND = 2.5
_DEFAULT_DIAL_TIMEOUT = 30
_DEFAULT_GATHER_TIMEOUT = 5
_DEFAULT_RECORD_MAX_LENGTH = 3600
# Verbs Twilio knows but the simulator does not play; they are noted and skipped.
_NOT_SIMULATED = {
    "Connect", "Echo", "Enqueue", "Leave", "Pay", "Prompt", "Queue", "Refer", "Sms",
    "Start", "Stop", "Stream",
}  # fmt: skip


async def simulate_call(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    *,
    caller: str,
    called: str,
    policy: AnswerPolicy,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    new_sid: Callable[[str], str] = random_sid,
) -> Transcript:
    """Ring `called` from `caller` at the service at `endpoint`.

    An HTTP error or invalid TwiML ends the call as Twilio would (the caller hears
    `APPLICATION_ERROR_TEXT`) and is the transcript's outcome; the final status callback
    is still sent. Raises `ServiceUnreachable` when nothing accepts the connection.
    """
    transcript = Transcript(call_sid=new_sid("CA"), caller=caller, called=called)
    hooks = Webhooks(session, endpoint, transcript, max_requests)
    call = _Call(hooks, transcript, policy, new_sid)
    await call.run()
    return transcript


# --- the interpreter ---------------------------------------------------------------------


class _Call:
    """One simulated call: its legs, the seconds it took and what everyone heard."""

    def __init__(
        self,
        hooks: Webhooks,
        transcript: Transcript,
        policy: AnswerPolicy,
        new_sid: Callable[[str], str],
    ) -> None:
        self.hooks = hooks
        self.endpoint = hooks.endpoint
        self.policy = policy
        self.transcript = transcript
        self.new_sid = new_sid
        self.attempts = 0
        self.seconds = 0
        self.answered = False
        t = self.transcript
        self.caller_leg = Leg(
            who="caller",
            base=call_params(t.call_sid, t.caller, t.called, self.endpoint.account_sid),
            status="ringing",
        )
        self.verbs: dict[str, Callable[[ET.Element, Document, Leg], Awaitable[Step]]] = {
            "Say": self._say,
            "Play": self._play,
            "Pause": self._pause,
            "Hangup": self._hangup,
            "Reject": self._reject,
            "Redirect": self._redirect,
            "Gather": self._gather,
            "Record": self._record,
            "Dial": self._dial,
        }

    def note(self, line: str) -> None:
        self.transcript.entries.append(line)

    async def run(self) -> None:
        t = self.transcript
        self.note(f"call from {t.caller} to {t.called}")
        try:
            url = self.endpoint.public_url + VOICE_PATH
            document = await self.hooks.fetch(url, "POST", self.caller_leg.params())
            self.caller_leg.status = "in-progress"
            end = await self.run_leg(document, self.caller_leg)
            self._ended(end)
        except Stop as stop:
            t.outcome, t.error = stop.outcome, stop.message
            if stop.outcome is Outcome.TOO_MANY_REQUESTS:
                self.note(f"STOPPED: {stop.message}")
            else:
                self.note(f"APPLICATION ERROR: {stop.message}")
                self.note(f'caller hears: "{APPLICATION_ERROR_TEXT}"')
            t.call_status = "completed"
        t.duration = self.seconds if t.call_status == "completed" else 0
        await self._status_callback()
        self.note(f"call ended ({t.call_status}, {t.duration} s)")

    def _ended(self, end: End) -> None:
        if end.kind == "hangup":
            self.note("service hangs up")
        elif end.kind == "exhausted":
            self.note("the TwiML ends: Twilio hangs up")
        elif end.kind == "reject":
            self.note(f"call rejected ({end.reason})")
            if not self.answered:  # only a first-verb <Reject> leaves the call unanswered
                self.transcript.call_status = "busy" if end.reason == "busy" else "no-answer"

    async def run_leg(self, document: Document, leg: Leg) -> End:
        """Play `document` and whatever follows it on `leg` until the leg ends."""
        while True:
            for verb in document.verbs:
                step = await self.verb(verb, document, leg)
                if isinstance(step, End):
                    return step
                if isinstance(step, Document):
                    document = step
                    break
            else:
                return End("exhausted")

    async def verb(self, verb: ET.Element, document: Document, leg: Leg) -> Step:
        if leg.is_caller and verb.tag != "Reject":
            self.answered = True
        handler = self.verbs.get(verb.tag)
        if handler is not None:
            return await handler(verb, document, leg)
        if verb.tag in _NOT_SIMULATED:
            self.note(f"(<{verb.tag}> is not simulated; skipped)")
        else:
            self.note(f"warning: <{verb.tag}> is not a TwiML verb; skipped")
        return None

    async def _status_callback(self) -> None:
        t = self.transcript
        params = {**self.caller_leg.base, "CallStatus": t.call_status}
        params["CallDuration"] = str(t.duration)
        await self.hooks.notify(self.endpoint.public_url + STATUS_PATH, params, "status callback")

    # --- verbs --------------------------------------------------------------------------

    async def _say(self, verb: ET.Element, _document: Document, leg: Leg) -> Step:
        text = " ".join("".join(verb.itertext()).split())
        language = verb.get("language") or "en-US by default"
        voice = verb.get("voice")
        label = f"{language}, {voice}" if voice else language
        loops = int_attr(verb, "loop", 1)
        repeat = "" if loops == 1 else f" (loop={loops})"
        self.note(f'{leg.who} hears ({label}): "{text}"{repeat}')
        self.seconds += max(1, math.ceil(len(text.split()) / _WORDS_PER_SECOND)) * max(loops, 1)
        return None

    async def _play(self, verb: ET.Element, _document: Document, leg: Leg) -> Step:
        digits = verb.get("digits")
        if digits:
            self.note(f"{leg.who} hears the tones {digits}")
        else:
            self.note(f"{leg.who} hears audio {(verb.text or '').strip()}")
        self.seconds += 1
        return None

    async def _pause(self, verb: ET.Element, _document: Document, leg: Leg) -> Step:
        length = int_attr(verb, "length", 1)
        self.note(f"{leg.who} waits {length} s (pause)")
        self.seconds += length
        return None

    async def _hangup(self, _verb: ET.Element, _document: Document, _leg: Leg) -> Step:
        return End("hangup")

    async def _reject(self, verb: ET.Element, _document: Document, _leg: Leg) -> Step:
        return End("reject", verb.get("reason") or "rejected")

    async def _redirect(self, verb: ET.Element, document: Document, leg: Leg) -> Step:
        url = resolve(document, (verb.text or "").strip())
        return await self.hooks.fetch(url, method_of(verb), leg.params())

    async def _gather(self, verb: ET.Element, document: Document, leg: Leg) -> Step:
        for child in verb:
            if child.tag in ("Say", "Play", "Pause"):
                await self.verb(child, document, leg)
            else:
                self.note(f"warning: <{child.tag}> inside <Gather> is not allowed; skipped")
        action = resolve(document, verb.get("action"))
        timeout = int_attr(verb, "timeout", _DEFAULT_GATHER_TIMEOUT)
        takes_digits = "dtmf" in (verb.get("input") or "dtmf")
        if leg.reaction is Reaction.ACCEPT and takes_digits:
            self.note(f"{leg.who} presses {ACCEPT_DIGIT}")
            self.seconds += 1
            return await self.hooks.fetch(action, method_of(verb), leg.params(Digits=ACCEPT_DIGIT))
        self.note(f"{leg.who} presses nothing (the gather times out after {timeout} s)")
        self.seconds += timeout
        if verb.get("actionOnEmptyResult") == "true":
            return await self.hooks.fetch(action, method_of(verb), leg.params())
        return None

    async def _record(self, verb: ET.Element, document: Document, leg: Leg) -> Step:
        if not leg.is_caller:
            self.note(f"(<Record> on the leg of {leg.who} is not simulated; skipped)")
            return None
        duration = min(VOICEMAIL_SECONDS, int_attr(verb, "maxLength", _DEFAULT_RECORD_MAX_LENGTH))
        if verb.get("playBeep") != "false":
            self.note("caller hears a beep")
        self.note(f"caller leaves a voicemail ({duration} s) and hangs up")
        self.seconds += duration
        leg.status = "completed"
        recording = self._recording(duration)
        after = await self.hooks.fetch(
            resolve(document, verb.get("action")),
            method_of(verb),
            leg.params(**recording, Digits="hangup"),
        )
        if after.verbs:
            # Twilio posts the action after a hang-up, but nobody is left to hear its TwiML.
            self.note("(the caller has hung up: the TwiML answered to the recording is not played)")
        callback = verb.get("recordingStatusCallback")
        if callback:
            params = {
                "AccountSid": self.endpoint.account_sid,
                "CallSid": self.transcript.call_sid,
                "RecordingStatus": "completed",
                "RecordingChannels": "1",
                "RecordingSource": "RecordVerb",
                **recording,
            }
            await self.hooks.notify(
                resolve(document, callback), params, "recording status callback"
            )
        return End("voicemail")

    def _recording(self, duration: int) -> dict[str, str]:
        return recording_params(self.new_sid("RE"), self.endpoint.account_sid, duration)

    async def _dial(self, verb: ET.Element, document: Document, leg: Leg) -> Step:
        if not leg.is_caller:
            self.note(f"(<Dial> on the leg of {leg.who} is not simulated; skipped)")
            return None
        timeout = int_attr(verb, "timeout", _DEFAULT_DIAL_TIMEOUT)
        rings = self._rings(verb, document)
        if not rings:
            raise Stop(Outcome.APPLICATION_ERROR, f"<Dial> without a number in {document.url}")
        for ring in rings:
            self.attempts += 1
            ring.reaction = self.policy.reaction(ring.number, self.attempts)
            self.note(f"ringing {ring.number} (timeout {timeout} s)")
        started = self.seconds
        connected, declined = await self._pick_up(rings, verb.get("callerId") or None)
        for ring in rings:
            if not ring.picked_up:
                self.note(
                    f"ringing stops at {ring.number}"
                    if connected
                    else f"no answer from {ring.number} after {timeout} s"
                )
        if connected is not None:
            status, sid, duration = "completed", connected.sid, TALK_SECONDS
        elif declined is not None:
            # Twilio's view: the leg was answered, so the dial "completed"; only the
            # screening leg's own webhooks tell the service that nobody accepted.
            status, sid, duration = "completed", declined.sid, max(1, self.seconds - started)
            self.seconds = max(self.seconds, started + timeout)  # the others ring out
        else:
            status, sid, duration = "no-answer", rings[0].sid, 0
            self.seconds += timeout
        recording: dict[str, str] = {}
        if connected is not None and verb.get("record", "do-not-record") != "do-not-record":
            self.note("(the bridged call is recorded)")
            recording = self._recording(TALK_SECONDS)
        self.note(f"dial result: DialCallStatus={status}")
        action = verb.get("action")
        if action is None:
            return None
        params = leg.params(
            DialCallStatus=status, DialCallSid=sid, DialCallDuration=str(duration), **recording
        )
        return await self.hooks.fetch(resolve(document, action), method_of(verb), params)

    def _rings(self, verb: ET.Element, document: Document) -> list[Ring]:
        rings = []
        for noun in verb:
            if noun.tag == "Number":
                url = noun.get("url")
                rings.append(
                    Ring(
                        number=canonical_phone(noun.text or ""),
                        url=resolve(document, url) if url else None,
                        method=method_of(noun),
                        sid=self.new_sid("CA"),
                    )
                )
            else:
                self.note(f"(<{noun.tag}> in <Dial> is not simulated; skipped)")
        plain = (verb.text or "").strip()
        if plain:
            rings.insert(0, Ring(canonical_phone(plain), None, "POST", self.new_sid("CA")))
        return rings

    async def _pick_up(
        self, rings: list[Ring], caller_id: str | None
    ) -> tuple[Ring | None, Ring | None]:
        """The ring that got connected and the last one that declined, in document order.

        The numbers ring at once; the first to pick up and pass its screening wins, and
        Twilio cancels the others.
        """
        declined = None
        for ring in rings:
            if ring.reaction is Reaction.NO_ANSWER:
                continue
            ring.picked_up = True
            self.note(f"{ring.number} picks up")
            if ring.url is None or await self._screen(ring, ring.url, caller_id):
                self.note(
                    f"caller connected to {ring.number} "
                    f"(talk {TALK_SECONDS} s, then {ring.number} hangs up)"
                )
                self.seconds += TALK_SECONDS
                self.transcript.connected.append(ring.number)
                return ring, declined
            self.note(f"{ring.number} hangs up: declined")
            declined = ring
        return None, declined

    async def _screen(self, ring: Ring, url: str, caller_id: str | None) -> bool:
        """Play the callee's screening leg; accepted when its TwiML ends without hanging up."""
        caller = self.caller_leg.base
        shown = caller_id or caller["From"]
        account = self.endpoint.account_sid
        base = call_params(ring.sid, shown, ring.number, account, direction="outbound-dial")
        base["ParentCallSid"] = caller["CallSid"]
        leg = Leg(who=ring.number, base=base, reaction=ring.reaction)
        document = await self.hooks.fetch(url, ring.method, leg.params())
        end = await self.run_leg(document, leg)
        return end.kind == "exhausted"
