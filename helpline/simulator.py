"""Plays the Twilio phone network against a running service (`helpline simulate call`).

A caller rings a helpline number: the simulator posts the webhooks Twilio would post, signed
the way Twilio signs them, follows the TwiML the service answers, rings the numbers it
dials, plays each callee's screening leg (the whisper) and writes down what everyone hears.
Who picks up is an `AnswerPolicy`. Nothing here is real telephony: durations are simulated
seconds and recording URLs are made up, so a run is deterministic apart from the SIDs.
"""

from __future__ import annotations

import logging
import math
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlencode, urljoin

import aiohttp

from helpline.twilio_signing import signed_headers
from helpline.web.twilio_auth import SANDBOX_AUTH_TOKEN
from rota.phones import InvalidPhone, normalise_phone

log = logging.getLogger(__name__)

#: The account SID sent in sandbox mode (the shape of a real one: AC + 32 hex digits).
SANDBOX_ACCOUNT_SID = "AC" + "0" * 32

VOICE_PATH = "/twilio/voice"
STATUS_PATH = "/twilio/status"
API_VERSION = "2010-04-01"

#: The key an accepting callee presses when the screening leg asks.
ACCEPT_DIGIT = "1"
DEFAULT_MAX_REQUESTS = 50
#: Twilio gives a voice webhook 15 s to answer before it plays the application error.
WEBHOOK_TIMEOUT = 15.0
#: Simulated seconds of a bridged conversation and of a voicemail message.
TALK_SECONDS = 60
VOICEMAIL_SECONDS = 12
#: What Twilio says to the caller when the service fails (what callers report hearing).
APPLICATION_ERROR_TEXT = "We are sorry, an application error has occurred. Goodbye."

_WORDS_PER_SECOND = 2.5
_BODY_SHOWN = 500
_DEFAULT_DIAL_TIMEOUT = 30
_DEFAULT_GATHER_TIMEOUT = 5
_DEFAULT_RECORD_MAX_LENGTH = 3600
# Verbs Twilio knows but the simulator does not play; they are noted and skipped.
_NOT_SIMULATED = {
    "Connect", "Echo", "Enqueue", "Leave", "Pay", "Prompt", "Queue", "Refer", "Sms",
    "Start", "Stop", "Stream",
}  # fmt: skip


# --- who picks up ------------------------------------------------------------------------


class PolicyError(ValueError):
    """An answer policy that cannot be parsed; the message shows the grammar."""


class Reaction(StrEnum):
    """What a dialled number does when it rings."""

    NO_ANSWER = "no-answer"
    ACCEPT = "accept"  # picks up and presses ACCEPT_DIGIT when the screening asks
    DECLINE = "decline"  # picks up but presses nothing


ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
POLICY_GRAMMAR = (
    "POLICY is `none`, or comma-separated TERMs; TERM is [decline:]TARGET and TARGET is "
    "`all`, an ordinal (first..fifth: the Nth number rung in the call) or a phone number"
)


@dataclass(frozen=True, slots=True)
class AnswerPolicy:
    """Who picks up, and who accepts the screened call, when the simulator rings numbers.

    A number is looked up by itself first, then by its attempt (1 for the first number
    rung in the call, counting every `<Number>` of every `<Dial>` in order), then `all`.
    Nobody else answers. Build it with `parse` (the `--answer` grammar).
    """

    numbers: tuple[tuple[str, Reaction], ...] = ()
    attempts: tuple[tuple[int, Reaction], ...] = ()
    everyone: Reaction = Reaction.NO_ANSWER

    @classmethod
    def parse(cls, text: str) -> AnswerPolicy:
        """`none`, `all`, `first`, `second,+4791234567`, `decline:first,all`, ..."""
        terms = [term.strip() for term in text.split(",")]
        if [term.lower() for term in terms] == ["none"]:
            return cls()
        numbers: dict[str, Reaction] = {}
        attempts: dict[int, Reaction] = {}
        everyone: Reaction | None = None
        for term in terms:
            reaction, target = _split_term(term)
            if target == "all":
                everyone = _merge(everyone, reaction, term)
            elif target in ORDINALS:
                attempts[ORDINALS[target]] = _merge(attempts.get(ORDINALS[target]), reaction, term)
            else:
                number = _policy_phone(target, term)
                numbers[number] = _merge(numbers.get(number), reaction, term)
        return cls(
            numbers=tuple(sorted(numbers.items())),
            attempts=tuple(sorted(attempts.items())),
            everyone=everyone or Reaction.NO_ANSWER,
        )

    def reaction(self, number: str, attempt: int) -> Reaction:
        """What `number`, rung as the `attempt`-th number of the call, does."""
        by_number = dict(self.numbers).get(canonical_phone(number))
        if by_number is not None:
            return by_number
        return dict(self.attempts).get(attempt, self.everyone)


def canonical_phone(text: str) -> str:
    """E.164 when `text` is a valid number, else `text` stripped (the service may dial junk)."""
    try:
        return normalise_phone(text)
    except InvalidPhone:
        return text.strip()


def _split_term(term: str) -> tuple[Reaction, str]:
    reaction = Reaction.ACCEPT
    head, colon, rest = term.partition(":")
    if colon:
        if head.strip().lower() != "decline":
            raise PolicyError(f"unknown term {term!r}: {POLICY_GRAMMAR}")
        reaction, term = Reaction.DECLINE, rest.strip()
    if not term:
        raise PolicyError(f"empty term in the answer policy: {POLICY_GRAMMAR}")
    lowered = term.lower()
    if lowered == "none":
        raise PolicyError(f"`none` cannot be combined with other terms: {POLICY_GRAMMAR}")
    return reaction, lowered if lowered == "all" or lowered in ORDINALS else term


def _policy_phone(target: str, term: str) -> str:
    try:
        return normalise_phone(target)
    except InvalidPhone:
        raise PolicyError(
            f"{term!r} is neither a keyword nor a phone number: {POLICY_GRAMMAR}"
        ) from None


def _merge(old: Reaction | None, new: Reaction, term: str) -> Reaction:
    if old is not None and old is not new:
        raise PolicyError(f"{term!r} contradicts an earlier term for the same target")
    return new


# --- what happened -----------------------------------------------------------------------


class Outcome(StrEnum):
    """How the simulated call went, from the service's point of view."""

    COMPLETED = "completed"  # the service answered every webhook with valid TwiML
    APPLICATION_ERROR = "application-error"  # an HTTP error or invalid TwiML: Twilio gives up
    TOO_MANY_REQUESTS = "too-many-requests"  # stopped by the request cap: the TwiML loops
    STATUS_CALLBACK_ERROR = "status-callback-error"  # the call went well, a callback failed


@dataclass(frozen=True, slots=True)
class Exchange:
    """One webhook request: method, the public URL that was signed, and the HTTP status."""

    method: str
    url: str
    status: int | None  # None: no answer in time


@dataclass(slots=True)
class Transcript:
    """What happened in one simulated call, in order, plus its outcome."""

    call_sid: str
    caller: str
    called: str
    entries: list[str | Exchange] = field(default_factory=list)
    outcome: Outcome = Outcome.COMPLETED
    error: str | None = None  # what went wrong, when the outcome is not COMPLETED
    call_status: str = "completed"  # the CallStatus of the final status callback
    duration: int = 0  # simulated seconds
    connected: list[str] = field(default_factory=list)  # numbers the caller talked to

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.COMPLETED

    @property
    def lines(self) -> list[str]:
        """What everyone heard and did, without the webhook requests."""
        return [entry for entry in self.entries if isinstance(entry, str)]

    @property
    def exchanges(self) -> list[Exchange]:
        return [entry for entry in self.entries if isinstance(entry, Exchange)]

    def render(self, *, with_requests: bool = False) -> str:
        """The transcript as text, one line per event; requests indented when asked for."""
        out = []
        for entry in self.entries:
            if isinstance(entry, str):
                out.append(entry)
            elif with_requests:
                out.append(f"    -> {entry.method} {entry.url}: {entry.status or 'no answer'}")
        return "\n".join(out)


class SimulatorError(Exception):
    """The simulation could not run (operator-facing, English)."""


class ServiceUnreachable(SimulatorError):
    """Nothing listens at the service's address; `transcript` holds what happened before."""

    def __init__(self, message: str, transcript: Transcript) -> None:
        super().__init__(message)
        self.transcript = transcript


def random_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two letters and 32 hex digits."""
    return prefix + uuid.uuid4().hex


async def simulate_call(
    session: aiohttp.ClientSession,
    *,
    base_url: str,
    caller: str,
    called: str,
    policy: AnswerPolicy,
    auth_token: str = SANDBOX_AUTH_TOKEN,
    account_sid: str = SANDBOX_ACCOUNT_SID,
    public_url: str | None = None,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    webhook_timeout: float = WEBHOOK_TIMEOUT,
    new_sid: Callable[[str], str] = random_sid,
) -> Transcript:
    """Ring `called` from `caller` at the service listening on `base_url`.

    Requests go to `base_url`; signatures are computed over `public_url` (default:
    `base_url`) plus path and query, as the service checks them against its
    HELPLINE_PUBLIC_URL. Absolute URLs in TwiML under `public_url` are sent to `base_url`.
    An HTTP error or invalid TwiML ends the call as Twilio would (the caller hears
    `APPLICATION_ERROR_TEXT`) and is the transcript's outcome; the final status callback
    is still sent. Raises `ServiceUnreachable` when nothing accepts the connection.
    """
    endpoint = _Endpoint(
        base_url=base_url.rstrip("/"),
        public_url=(public_url or base_url).rstrip("/"),
        auth_token=auth_token,
        account_sid=account_sid,
        timeout=webhook_timeout,
    )
    transcript = Transcript(call_sid=new_sid("CA"), caller=caller, called=called)
    call = _Call(session, endpoint, policy, transcript, max_requests, new_sid)
    await call.run()
    return transcript


# --- the interpreter ---------------------------------------------------------------------


class _Stop(Exception):
    """Ends the whole simulation: the service failed or looped."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message


@dataclass(frozen=True, slots=True)
class _Endpoint:
    base_url: str
    public_url: str
    auth_token: str
    account_sid: str
    timeout: float

    def transport(self, url: str) -> str:
        """Where to send a request for the public `url`."""
        public = self.public_url
        if url == public or url.startswith((public + "/", public + "?")):
            return self.base_url + url[len(public) :]
        return url


@dataclass(frozen=True, slots=True)
class _Document:
    url: str  # the public URL it came from: relative URLs resolve against it
    verbs: list[ET.Element]


@dataclass(frozen=True, slots=True)
class _End:
    kind: str  # "hangup", "reject", "exhausted" or "voicemail"
    reason: str = ""


_Step = _Document | _End | None


@dataclass(slots=True)
class _Leg:
    """One call leg: the caller's, or a callee's screening leg."""

    who: str  # "caller" or the callee's number
    base: dict[str, str]  # the webhook parameters of this leg, without CallStatus
    status: str = "in-progress"
    reaction: Reaction | None = None  # a callee's; None on the caller's leg

    @property
    def is_caller(self) -> bool:
        return self.reaction is None

    def params(self, **extra: str) -> dict[str, str]:
        return {**self.base, "CallStatus": self.status, **extra}


@dataclass(slots=True)
class _Ring:
    """One number rung by a `<Dial>`."""

    number: str
    url: str | None  # the screening leg's TwiML, if any
    method: str
    sid: str
    reaction: Reaction = Reaction.NO_ANSWER
    picked_up: bool = False


class _Call:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        endpoint: _Endpoint,
        policy: AnswerPolicy,
        transcript: Transcript,
        max_requests: int,
        new_sid: Callable[[str], str],
    ) -> None:
        self.session = session
        self.endpoint = endpoint
        self.policy = policy
        self.transcript = transcript
        self.max_requests = max_requests
        self.new_sid = new_sid
        self.requests = 0
        self.attempts = 0
        self.seconds = 0
        self.answered = False
        t = transcript
        self.caller_leg = _Leg(
            who="caller",
            base={
                "AccountSid": endpoint.account_sid,
                "ApiVersion": API_VERSION,
                "CallSid": t.call_sid,
                "From": t.caller,
                "To": t.called,
                "Caller": t.caller,
                "Called": t.called,
                "Direction": "inbound",
            },
            status="ringing",
        )
        self.verbs: dict[str, Callable[[ET.Element, _Document, _Leg], Awaitable[_Step]]] = {
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
            document = await self.fetch(url, "POST", self.caller_leg.params())
            self.caller_leg.status = "in-progress"
            end = await self.run_leg(document, self.caller_leg)
            self._ended(end)
        except _Stop as stop:
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

    def _ended(self, end: _End) -> None:
        if end.kind == "hangup":
            self.note("service hangs up")
        elif end.kind == "exhausted":
            self.note("the TwiML ends: Twilio hangs up")
        elif end.kind == "reject":
            self.note(f"call rejected ({end.reason})")
            if not self.answered:  # only a first-verb <Reject> leaves the call unanswered
                self.transcript.call_status = "busy" if end.reason == "busy" else "no-answer"

    async def run_leg(self, document: _Document, leg: _Leg) -> _End:
        """Play `document` and whatever follows it on `leg` until the leg ends."""
        while True:
            for verb in document.verbs:
                step = await self.verb(verb, document, leg)
                if isinstance(step, _End):
                    return step
                if isinstance(step, _Document):
                    document = step
                    break
            else:
                return _End("exhausted")

    async def verb(self, verb: ET.Element, document: _Document, leg: _Leg) -> _Step:
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

    # --- HTTP ---------------------------------------------------------------------------

    async def fetch(self, url: str, method: str, params: Mapping[str, str]) -> _Document:
        """Request TwiML the way Twilio does; an HTTP error or invalid TwiML stops the call."""
        self.requests += 1
        if self.requests > self.max_requests:
            raise _Stop(
                Outcome.TOO_MANY_REQUESTS,
                f"more than {self.max_requests} webhook requests in one call; does the "
                f"TwiML loop? (next was {method} {url})",
            )
        status, body = await self.send(url, method, params)
        if status != 200:
            raise _Stop(
                Outcome.APPLICATION_ERROR,
                f"{method} {url} answered HTTP {status}: {_shorten(body)}",
            )
        return _Document(url=url, verbs=_parse_twiml(body, f"{method} {url}"))

    async def send(self, url: str, method: str, params: Mapping[str, str]) -> tuple[int, str]:
        """One signed request. GET carries the parameters in the (signed) query string."""
        log.debug("%s %s", method, url)  # before GET adds the parameters: no phone numbers
        if method == "GET":
            url = url + ("&" if "?" in url else "?") + urlencode(params)
            form: dict[str, str] | None = None
        else:
            form = dict(params)
        headers = signed_headers(url, form or {}, self.endpoint.auth_token)
        target = self.endpoint.transport(url)
        try:
            async with self.session.request(
                method,
                target,
                data=form,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.endpoint.timeout),
            ) as response:
                status, body = response.status, await response.read()
        except TimeoutError:
            self.transcript.entries.append(Exchange(method, url, None))
            raise _Stop(
                Outcome.APPLICATION_ERROR,
                f"{method} {url}: no answer within {self.endpoint.timeout:g} s",
            ) from None
        except aiohttp.ClientConnectorError as error:
            raise ServiceUnreachable(
                f"cannot reach the service at {target}: {error.os_error.strerror or error}",
                self.transcript,
            ) from None
        except aiohttp.ClientError as error:
            raise _Stop(Outcome.APPLICATION_ERROR, f"{method} {url}: {error!r}") from None
        self.transcript.entries.append(Exchange(method, url, status))
        return status, body.decode("utf-8", errors="replace")

    async def notify(self, url: str, params: Mapping[str, str], what: str) -> None:
        """A callback whose answer is not TwiML (call or recording status): any 2xx is fine."""
        try:
            status, body = await self.send(url, "POST", params)
        except _Stop as stop:
            message = stop.message
        else:
            if 200 <= status < 300:
                return
            message = f"POST {url} answered HTTP {status}: {_shorten(body)}"
        self.note(f"{what.upper()} ERROR: {message}")
        if self.transcript.ok:
            self.transcript.outcome = Outcome.STATUS_CALLBACK_ERROR
            self.transcript.error = f"the {what} failed: {message}"

    async def _status_callback(self) -> None:
        t = self.transcript
        params = {**self.caller_leg.base, "CallStatus": t.call_status}
        params["CallDuration"] = str(t.duration)
        await self.notify(self.endpoint.public_url + STATUS_PATH, params, "status callback")

    # --- verbs --------------------------------------------------------------------------

    async def _say(self, verb: ET.Element, _document: _Document, leg: _Leg) -> _Step:
        text = " ".join("".join(verb.itertext()).split())
        language = verb.get("language") or "en-US by default"
        voice = verb.get("voice")
        label = f"{language}, {voice}" if voice else language
        loops = _int_attr(verb, "loop", 1)
        repeat = "" if loops == 1 else f" (loop={loops})"
        self.note(f'{leg.who} hears ({label}): "{text}"{repeat}')
        self.seconds += max(1, math.ceil(len(text.split()) / _WORDS_PER_SECOND)) * max(loops, 1)
        return None

    async def _play(self, verb: ET.Element, _document: _Document, leg: _Leg) -> _Step:
        digits = verb.get("digits")
        if digits:
            self.note(f"{leg.who} hears the tones {digits}")
        else:
            self.note(f"{leg.who} hears audio {(verb.text or '').strip()}")
        self.seconds += 1
        return None

    async def _pause(self, verb: ET.Element, _document: _Document, leg: _Leg) -> _Step:
        length = _int_attr(verb, "length", 1)
        self.note(f"{leg.who} waits {length} s (pause)")
        self.seconds += length
        return None

    async def _hangup(self, _verb: ET.Element, _document: _Document, _leg: _Leg) -> _Step:
        return _End("hangup")

    async def _reject(self, verb: ET.Element, _document: _Document, _leg: _Leg) -> _Step:
        return _End("reject", verb.get("reason") or "rejected")

    async def _redirect(self, verb: ET.Element, document: _Document, leg: _Leg) -> _Step:
        url = _resolve(document, (verb.text or "").strip())
        return await self.fetch(url, _method(verb), leg.params())

    async def _gather(self, verb: ET.Element, document: _Document, leg: _Leg) -> _Step:
        for child in verb:
            if child.tag in ("Say", "Play", "Pause"):
                await self.verb(child, document, leg)
            else:
                self.note(f"warning: <{child.tag}> inside <Gather> is not allowed; skipped")
        action = _resolve(document, verb.get("action"))
        timeout = _int_attr(verb, "timeout", _DEFAULT_GATHER_TIMEOUT)
        takes_digits = "dtmf" in (verb.get("input") or "dtmf")
        if leg.reaction is Reaction.ACCEPT and takes_digits:
            self.note(f"{leg.who} presses {ACCEPT_DIGIT}")
            self.seconds += 1
            return await self.fetch(action, _method(verb), leg.params(Digits=ACCEPT_DIGIT))
        self.note(f"{leg.who} presses nothing (the gather times out after {timeout} s)")
        self.seconds += timeout
        if verb.get("actionOnEmptyResult") == "true":
            return await self.fetch(action, _method(verb), leg.params())
        return None

    async def _record(self, verb: ET.Element, document: _Document, leg: _Leg) -> _Step:
        if not leg.is_caller:
            self.note(f"(<Record> on the leg of {leg.who} is not simulated; skipped)")
            return None
        duration = min(VOICEMAIL_SECONDS, _int_attr(verb, "maxLength", _DEFAULT_RECORD_MAX_LENGTH))
        if verb.get("playBeep") != "false":
            self.note("caller hears a beep")
        self.note(f"caller leaves a voicemail ({duration} s) and hangs up")
        self.seconds += duration
        leg.status = "completed"
        recording = self._recording(duration)
        after = await self.fetch(
            _resolve(document, verb.get("action")),
            _method(verb),
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
            await self.notify(_resolve(document, callback), params, "recording status callback")
        return _End("voicemail")

    def _recording(self, duration: int) -> dict[str, str]:
        """The parameters Twilio sends about a finished recording (its URL is made up)."""
        sid = self.new_sid("RE")
        account = self.endpoint.account_sid
        return {
            "RecordingSid": sid,
            "RecordingUrl": f"https://api.twilio.com/{API_VERSION}/Accounts/{account}/Recordings/{sid}",
            "RecordingDuration": str(duration),
        }

    async def _dial(self, verb: ET.Element, document: _Document, leg: _Leg) -> _Step:
        if not leg.is_caller:
            self.note(f"(<Dial> on the leg of {leg.who} is not simulated; skipped)")
            return None
        timeout = _int_attr(verb, "timeout", _DEFAULT_DIAL_TIMEOUT)
        rings = self._rings(verb, document)
        if not rings:
            raise _Stop(Outcome.APPLICATION_ERROR, f"<Dial> without a number in {document.url}")
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
        return await self.fetch(_resolve(document, action), _method(verb), params)

    def _rings(self, verb: ET.Element, document: _Document) -> list[_Ring]:
        rings = []
        for noun in verb:
            if noun.tag == "Number":
                url = noun.get("url")
                rings.append(
                    _Ring(
                        number=canonical_phone(noun.text or ""),
                        url=_resolve(document, url) if url else None,
                        method=_method(noun),
                        sid=self.new_sid("CA"),
                    )
                )
            else:
                self.note(f"(<{noun.tag}> in <Dial> is not simulated; skipped)")
        plain = (verb.text or "").strip()
        if plain:
            rings.insert(0, _Ring(canonical_phone(plain), None, "POST", self.new_sid("CA")))
        return rings

    async def _pick_up(
        self, rings: list[_Ring], caller_id: str | None
    ) -> tuple[_Ring | None, _Ring | None]:
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

    async def _screen(self, ring: _Ring, url: str, caller_id: str | None) -> bool:
        """Play the callee's screening leg; accepted when its TwiML ends without hanging up."""
        caller = self.caller_leg.base
        shown = caller_id or caller["From"]
        leg = _Leg(
            who=ring.number,
            base={
                "AccountSid": self.endpoint.account_sid,
                "ApiVersion": API_VERSION,
                "CallSid": ring.sid,
                "ParentCallSid": caller["CallSid"],
                "From": shown,
                "To": ring.number,
                "Caller": shown,
                "Called": ring.number,
                "Direction": "outbound-dial",
            },
            reaction=ring.reaction,
        )
        document = await self.fetch(url, ring.method, leg.params())
        end = await self.run_leg(document, leg)
        return end.kind == "exhausted"


def _parse_twiml(body: str, source: str) -> list[ET.Element]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise _Stop(
            Outcome.APPLICATION_ERROR,
            f"{source} answered no valid TwiML ({error}): {_shorten(body)}",
        ) from None
    if root.tag != "Response":
        raise _Stop(
            Outcome.APPLICATION_ERROR, f"{source} answered <{root.tag}>, not TwiML <Response>"
        )
    return list(root)


def _resolve(document: _Document, url: str | None) -> str:
    """`url` against the document's URL; Twilio's default for a missing action is the document."""
    return urljoin(document.url, url.strip()) if url and url.strip() else document.url


def _method(verb: ET.Element) -> str:
    method = (verb.get("method") or "POST").upper()
    if method not in ("GET", "POST"):
        raise _Stop(Outcome.APPLICATION_ERROR, f"<{verb.tag} method={method!r}>: not GET or POST")
    return method


def _int_attr(verb: ET.Element, name: str, default: int) -> int:
    text = verb.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise _Stop(
            Outcome.APPLICATION_ERROR, f"<{verb.tag} {name}={text!r}>: not a whole number"
        ) from None


def _shorten(body: str) -> str:
    text = " ".join(body.split())
    return text if len(text) <= _BODY_SHOWN else text[:_BODY_SHOWN] + " ..."
