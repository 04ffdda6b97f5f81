"""`helpline simulate call` against a scripted helpline served over real HTTP.

The scripted helpline checks `X-Twilio-Signature` the way the service does (public URL +
path + query, 403 otherwise) and answers a fixed call flow: a greeting and a `<Dial>` of two
numbers with screening, then the barnevernvakt, then voicemail.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from twilio.request_validator import RequestValidator

from helpline.cli import build_parser
from helpline.commands.common import CommandError
from helpline.settings import Settings
from helpline.simulator import (
    APPLICATION_ERROR_TEXT,
    AnswerPolicy,
    Endpoint,
    Outcome,
    ServiceUnreachable,
    Transcript,
    simulate_call,
)
from helpline.simulator.sms import Delivered, simulate_sms
from helpline.web.twilio_auth import SANDBOX_AUTH_TOKEN

pytestmark = pytest.mark.e2e

PUBLIC = "http://helpline.test"
TOKEN = "e2e-auth-token"
CALLER, HELPLINE = "+4798765432", "+4767000001"
KARI, OLA, VAKT = "+4791234567", "+4791234568", "+4740000000"

GREETING = "Hei, du har ringt Fosterhjemstelefonen. Vi setter deg over til den som har vakt."
WHISPER = "Anrop fra Familien Hansen. Trykk 1 for å svare."
NEXT = "Vi prøver barnevernvakta."
VOICEMAIL = "Ingen svarte. Legg igjen en beskjed etter tonen."
THANKS = "Takk for beskjeden."


@dataclass(frozen=True)
class Received:
    method: str
    path_qs: str
    params: dict[str, str]
    signed: bool


def twiml(*verbs: str) -> web.Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?><Response>{"".join(verbs)}</Response>'
    return web.Response(text=body, content_type="text/xml")


@dataclass
class ScriptedHelpline:
    """A stand-in for the service: checks signatures as it does, answers a fixed flow."""

    token: str = TOKEN
    failing_path: str | None = None  # answers 500 here
    first_answer: str | None = None  # replaces the TwiML of POST /twilio/voice
    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)  # CallSids a callee accepted

    def app(self) -> web.Application:
        validator = RequestValidator(self.token)

        @web.middleware
        async def check_signature(
            request: web.Request,
            handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        ) -> web.StreamResponse:
            params = {key: str(value) for key, value in (await request.post()).items()}
            signature = request.headers.get("X-Twilio-Signature", "")
            valid: bool = validator.validate(PUBLIC + request.path_qs, params, signature)
            signed = bool(signature) and valid
            self.received.append(Received(request.method, request.path_qs, params, signed))
            if not signed:
                return web.Response(status=403, text="invalid Twilio signature")
            if request.path == self.failing_path:
                return web.Response(status=500, text="Internal Server Error: boom")
            return await handler(request)

        app = web.Application(middlewares=[check_signature])
        app.router.add_post("/twilio/voice", self.voice)
        app.router.add_get("/twilio/voice/menu", self.menu)
        app.router.add_post("/twilio/voice/whisper", self.whisper)
        app.router.add_post("/twilio/voice/whisper/answer", self.whisper_answer)
        app.router.add_post("/twilio/voice/dial", self.dial_result)
        app.router.add_post("/twilio/voice/voicemail", self.voicemail)
        app.router.add_post("/twilio/voice/recording", self.no_content)
        app.router.add_post("/twilio/status", self.no_content)
        app.router.add_post("/twilio/sms", self.sms)
        return app

    def paths(self) -> list[str]:
        return [r.path_qs for r in self.received]

    def params(self, path_qs: str) -> dict[str, str]:
        return next(r.params for r in self.received if r.path_qs == path_qs)

    async def voice(self, _request: web.Request) -> web.Response:
        if self.first_answer is not None:
            return web.Response(text=self.first_answer, content_type="text/xml")
        return twiml(
            f'<Say language="nb-NO">{GREETING}</Say>',
            '<Dial timeout="20" callerId="+4767000001" action="/twilio/voice/dial?step=1">',
            f'<Number url="/twilio/voice/whisper?n=1">{KARI}</Number>',
            f'<Number url="{PUBLIC}/twilio/voice/whisper?n=2">{OLA}</Number>',
            "</Dial>",
        )

    async def menu(self, _request: web.Request) -> web.Response:
        return twiml('<Say language="nb-NO">Meny</Say>', "<Hangup/>")

    async def whisper(self, _request: web.Request) -> web.Response:
        return twiml(
            '<Gather numDigits="1" timeout="8" action="whisper/answer">',
            f'<Say language="nb-NO">{WHISPER}</Say>',
            "</Gather>",
            "<Hangup/>",
        )

    async def whisper_answer(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("Digits") == "1":
            self.accepted.add(str(form["ParentCallSid"]))
            return twiml()
        return twiml("<Hangup/>")

    async def dial_result(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form["DialCallStatus"] == "completed" and form["CallSid"] in self.accepted:
            return twiml("<Hangup/>")
        if request.query["step"] == "1":
            return twiml(
                f'<Say language="nb-NO">{NEXT}</Say>',
                '<Dial timeout="15" record="record-from-answer" action="dial?step=2">',
                f'<Number url="whisper?n=3">{VAKT}</Number>',
                "</Dial>",
            )
        return twiml(
            f'<Say language="nb-NO" voice="Polly.Liv">{VOICEMAIL}</Say>',
            '<Record maxLength="120" action="/twilio/voice/voicemail"'
            ' recordingStatusCallback="/twilio/voice/recording"/>',
        )

    async def voicemail(self, _request: web.Request) -> web.Response:
        return twiml(f'<Say language="nb-NO">{THANKS}</Say>', "<Hangup/>")

    async def sms(self, _request: web.Request) -> web.Response:
        return twiml(f"<Message>{THANKS}</Message>", "<Redirect>/twilio/sms</Redirect>")

    async def no_content(self, _request: web.Request) -> web.Response:
        return web.Response(status=204)


Start = Callable[..., Awaitable[ScriptedHelpline]]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    """Serve scripted helplines on 127.0.0.1 (random ports); closes them afterwards."""
    servers: list[TestServer] = []

    async def start_helpline(
        token: str = TOKEN, failing_path: str | None = None, first_answer: str | None = None
    ) -> ScriptedHelpline:
        helpline = ScriptedHelpline(token, failing_path, first_answer)
        server = TestServer(helpline.app(), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        helpline.base_url = str(server.make_url("")).rstrip("/")
        return helpline

    yield start_helpline
    for server in servers:
        await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


async def call(
    session: aiohttp.ClientSession,
    helpline: ScriptedHelpline,
    answer: str,
    *,
    auth_token: str = TOKEN,
    max_requests: int = 50,
) -> Transcript:
    endpoint = Endpoint.at(helpline.base_url, public_url=PUBLIC, auth_token=auth_token)
    return await simulate_call(
        session,
        endpoint,
        caller=CALLER,
        called=HELPLINE,
        policy=AnswerPolicy.parse(answer),
        max_requests=max_requests,
    )


def ended(transcript: Transcript) -> str:
    return f"call ended (completed, {transcript.duration} s)"


def all_signed(helpline: ScriptedHelpline) -> bool:
    return bool(helpline.received) and all(r.signed for r in helpline.received)


GREETED = [f"call from {CALLER} to {HELPLINE}", f'caller hears (nb-NO): "{GREETING}"']
RINGING = [f"ringing {KARI} (timeout 20 s)", f"ringing {OLA} (timeout 20 s)"]
TO_VAKT = [f'caller hears (nb-NO): "{NEXT}"', f"ringing {VAKT} (timeout 15 s)"]
TO_VOICEMAIL = [
    f"no answer from {VAKT} after 15 s",
    "dial result: DialCallStatus=no-answer",
    f'caller hears (nb-NO, Polly.Liv): "{VOICEMAIL}"',
    "caller hears a beep",
    "caller leaves a voicemail (12 s) and hangs up",
    "(the caller has hung up: the TwiML answered to the recording is not played)",
]


def screened(number: str) -> list[str]:
    return [f"{number} picks up", f'{number} hears (nb-NO): "{WHISPER}"']


async def test_nobody_answers_and_the_caller_leaves_a_voicemail(
    start: Start, session: aiohttp.ClientSession
) -> None:
    helpline = await start()
    transcript = await call(session, helpline, "none")

    assert transcript.lines == [
        *GREETED,
        *RINGING,
        f"no answer from {KARI} after 20 s",
        f"no answer from {OLA} after 20 s",
        "dial result: DialCallStatus=no-answer",
        *TO_VAKT,
        *TO_VOICEMAIL,
        ended(transcript),
    ]
    assert transcript.outcome is Outcome.COMPLETED and transcript.connected == []
    assert all_signed(helpline)
    assert helpline.paths() == [
        "/twilio/voice",
        "/twilio/voice/dial?step=1",
        "/twilio/voice/dial?step=2",
        "/twilio/voice/voicemail",
        "/twilio/voice/recording",
        "/twilio/status",
    ]
    first = helpline.params("/twilio/voice")
    assert first["CallSid"] == transcript.call_sid
    assert (first["From"], first["To"], first["CallStatus"]) == (CALLER, HELPLINE, "ringing")
    assert (first["Direction"], first["ApiVersion"]) == ("inbound", "2010-04-01")
    dial = helpline.params("/twilio/voice/dial?step=1")
    assert (dial["DialCallStatus"], dial["CallStatus"]) == ("no-answer", "in-progress")
    assert dial["DialCallSid"].startswith("CA") and dial["DialCallSid"] != transcript.call_sid
    voicemail = helpline.params("/twilio/voice/voicemail")
    assert (voicemail["Digits"], voicemail["RecordingDuration"]) == ("hangup", "12")
    assert voicemail["RecordingUrl"].startswith("https://")
    assert voicemail["RecordingSid"].startswith("RE")
    status = helpline.params("/twilio/status")
    assert (status["CallStatus"], status["CallDuration"]) == ("completed", str(transcript.duration))
    assert transcript.duration > 0


async def test_the_first_number_picks_up_presses_1_and_is_connected(
    start: Start, session: aiohttp.ClientSession
) -> None:
    helpline = await start()
    transcript = await call(session, helpline, "first")

    assert transcript.lines == [
        *GREETED,
        *RINGING,
        *screened(KARI),
        f"{KARI} presses 1",
        f"caller connected to {KARI} (talk 60 s, then {KARI} hangs up)",
        f"ringing stops at {OLA}",
        "dial result: DialCallStatus=completed",
        "service hangs up",
        ended(transcript),
    ]
    assert transcript.ok and transcript.connected == [KARI]
    assert all_signed(helpline)
    assert helpline.paths() == [
        "/twilio/voice",
        "/twilio/voice/whisper?n=1",
        "/twilio/voice/whisper/answer",
        "/twilio/voice/dial?step=1",
        "/twilio/status",
    ]
    whisper = helpline.params("/twilio/voice/whisper?n=1")
    assert whisper["ParentCallSid"] == transcript.call_sid
    assert (whisper["To"], whisper["From"]) == (KARI, HELPLINE)  # From is the Dial's callerId
    assert (whisper["Direction"], whisper["CallStatus"]) == ("outbound-dial", "in-progress")
    answer = helpline.params("/twilio/voice/whisper/answer")
    assert answer["Digits"] == "1" and answer["CallSid"] == whisper["CallSid"]
    dial = helpline.params("/twilio/voice/dial?step=1")
    assert (dial["DialCallStatus"], dial["DialCallDuration"]) == ("completed", "60")
    assert dial["DialCallSid"] == whisper["CallSid"]


async def test_the_second_number_picks_up_at_its_absolute_screening_url(
    start: Start, session: aiohttp.ClientSession
) -> None:
    helpline = await start()
    transcript = await call(session, helpline, "second")

    assert transcript.lines == [
        *GREETED,
        *RINGING,
        *screened(OLA),
        f"{OLA} presses 1",
        f"caller connected to {OLA} (talk 60 s, then {OLA} hangs up)",
        f"ringing stops at {KARI}",
        "dial result: DialCallStatus=completed",
        "service hangs up",
        ended(transcript),
    ]
    assert transcript.connected == [OLA]
    assert all_signed(helpline)
    assert "/twilio/voice/whisper?n=2" in helpline.paths()


async def test_a_named_number_picks_up_when_its_turn_comes(
    start: Start, session: aiohttp.ClientSession
) -> None:
    helpline = await start()
    transcript = await call(session, helpline, "40 00 00 00")

    assert transcript.lines == [
        *GREETED,
        *RINGING,
        f"no answer from {KARI} after 20 s",
        f"no answer from {OLA} after 20 s",
        "dial result: DialCallStatus=no-answer",
        *TO_VAKT,
        *screened(VAKT),
        f"{VAKT} presses 1",
        f"caller connected to {VAKT} (talk 60 s, then {VAKT} hangs up)",
        "(the bridged call is recorded)",
        "dial result: DialCallStatus=completed",
        "service hangs up",
        ended(transcript),
    ]
    assert transcript.ok and transcript.connected == [VAKT]
    assert all_signed(helpline)
    assert helpline.paths()[-4:] == [
        "/twilio/voice/whisper?n=3",  # "whisper?n=3" resolved against /twilio/voice/dial
        "/twilio/voice/whisper/answer",
        "/twilio/voice/dial?step=2",
        "/twilio/status",
    ]
    dial = helpline.params("/twilio/voice/dial?step=2")
    assert (dial["DialCallStatus"], dial["RecordingDuration"]) == ("completed", "60")
    assert dial["RecordingUrl"].startswith("https://") and dial["RecordingSid"].startswith("RE")
    assert "RecordingUrl" not in helpline.params("/twilio/voice/dial?step=1")


async def test_a_callee_who_does_not_press_1_declines_though_twilio_says_completed(
    start: Start, session: aiohttp.ClientSession
) -> None:
    helpline = await start()
    transcript = await call(session, helpline, "decline:first")

    assert transcript.lines == [
        *GREETED,
        *RINGING,
        *screened(KARI),
        f"{KARI} presses nothing (the gather times out after 8 s)",
        f"{KARI} hangs up: declined",
        f"no answer from {OLA} after 20 s",
        "dial result: DialCallStatus=completed",
        *TO_VAKT,
        *TO_VOICEMAIL,
        ended(transcript),
    ]
    assert transcript.ok and transcript.connected == []
    assert all_signed(helpline)
    assert "/twilio/voice/whisper/answer" not in helpline.paths()
    assert helpline.params("/twilio/voice/dial?step=1")["DialCallStatus"] == "completed"


async def test_a_service_error_is_the_application_error_the_caller_hears(
    start: Start, session: aiohttp.ClientSession
) -> None:
    helpline = await start(failing_path="/twilio/voice/dial")
    transcript = await call(session, helpline, "none")

    assert transcript.outcome is Outcome.APPLICATION_ERROR and not transcript.ok
    assert transcript.lines[-4:] == [
        "dial result: DialCallStatus=no-answer",
        f"APPLICATION ERROR: POST {PUBLIC}/twilio/voice/dial?step=1 answered HTTP 500: "
        "Internal Server Error: boom",
        f'caller hears: "{APPLICATION_ERROR_TEXT}"',
        ended(transcript),
    ]
    assert transcript.error is not None and "HTTP 500" in transcript.error
    assert helpline.paths()[-1] == "/twilio/status"  # Twilio still reports the call's end
    assert helpline.params("/twilio/status")["CallStatus"] == "completed"


async def test_a_wrong_signature_is_refused_and_reported(
    start: Start, session: aiohttp.ClientSession
) -> None:
    helpline = await start()
    transcript = await call(session, helpline, "first", auth_token="not-the-token")

    assert transcript.outcome is Outcome.APPLICATION_ERROR
    assert f"APPLICATION ERROR: POST {PUBLIC}/twilio/voice answered HTTP 403: " in "\n".join(
        transcript.lines
    )
    assert [r.signed for r in helpline.received] == [False, False]  # the voice and status posts


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("this is not TwiML", "answered no valid TwiML"),
        ("<Speak>Hei</Speak>", "answered <Speak>, not TwiML <Response>"),
        ('<Response><Dial timeout="soon">+4791234567</Dial></Response>', "not a whole number"),
        ("<Response><Dial/></Response>", "<Dial> without a number"),
    ],
)
async def test_invalid_twiml_is_an_application_error(
    start: Start, session: aiohttp.ClientSession, answer: str, expected: str
) -> None:
    helpline = await start(first_answer=answer)
    transcript = await call(session, helpline, "all")

    assert transcript.outcome is Outcome.APPLICATION_ERROR
    assert transcript.error is not None and expected in transcript.error


async def test_a_looping_flow_is_stopped_at_the_request_cap(
    start: Start, session: aiohttp.ClientSession
) -> None:
    loop = '<Response><Say language="nb-NO">Hei</Say><Redirect>/twilio/voice</Redirect></Response>'
    helpline = await start(first_answer=loop)
    transcript = await call(session, helpline, "none", max_requests=5)

    assert transcript.outcome is Outcome.TOO_MANY_REQUESTS
    assert transcript.lines.count('caller hears (nb-NO): "Hei"') == 5
    assert transcript.lines[-2].startswith("STOPPED: more than 5 webhook requests in one call")
    assert helpline.paths() == ["/twilio/voice"] * 5 + ["/twilio/status"]
    assert all_signed(helpline)


async def test_a_rejected_call_is_busy_and_never_answered(
    start: Start, session: aiohttp.ClientSession
) -> None:
    helpline = await start(first_answer='<Response><Reject reason="busy"/></Response>')
    transcript = await call(session, helpline, "all")

    assert transcript.lines == [
        f"call from {CALLER} to {HELPLINE}",
        "call rejected (busy)",
        "call ended (busy, 0 s)",
    ]
    status = helpline.params("/twilio/status")
    assert (status["CallStatus"], status["CallDuration"]) == ("busy", "0")


async def test_a_get_redirect_is_signed_over_its_query(
    start: Start, session: aiohttp.ClientSession
) -> None:
    redirect = '<Response><Redirect method="GET">voice/menu?lang=nb</Redirect></Response>'
    helpline = await start(first_answer=redirect)
    transcript = await call(session, helpline, "none")

    assert transcript.ok, transcript.error
    assert transcript.lines[1:] == [
        'caller hears (nb-NO): "Meny"',
        "service hangs up",
        ended(transcript),
    ]
    menu = helpline.received[1]
    assert menu.method == "GET" and menu.signed
    assert menu.path_qs.startswith("/twilio/voice/menu?lang=nb&AccountSid=")
    assert f"CallSid={transcript.call_sid}" in menu.path_qs


async def test_a_failing_status_callback_is_reported(
    start: Start, session: aiohttp.ClientSession
) -> None:
    helpline = await start(failing_path="/twilio/status")
    transcript = await call(session, helpline, "first")

    assert transcript.outcome is Outcome.STATUS_CALLBACK_ERROR
    assert transcript.connected == [KARI]
    assert transcript.lines[-2].startswith(f"STATUS CALLBACK ERROR: POST {PUBLIC}/twilio/status")


async def test_an_unreachable_service_is_an_error_not_a_transcript(
    session: aiohttp.ClientSession,
) -> None:
    with pytest.raises(ServiceUnreachable, match="cannot reach the service at http://127.0.0.1:1"):
        await simulate_call(
            session,
            Endpoint.at("http://127.0.0.1:1"),
            caller=CALLER,
            called=HELPLINE,
            policy=AnswerPolicy(),
        )


# --- the command line ----------------------------------------------------------------------


def sandbox_settings() -> Settings:
    return Settings.from_mapping({"HELPLINE_PUBLIC_URL": PUBLIC})


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["simulate", "call", *argv])


async def test_the_command_prints_the_transcript_and_signs_with_the_sandbox_token(
    start: Start, capsys: pytest.CaptureFixture[str]
) -> None:
    helpline = await start(token=SANDBOX_AUTH_TOKEN)
    args = parse("--from", "987 65 432", "--answer", "second", "--url", helpline.base_url)

    assert await args.handler(sandbox_settings(), args) == 0
    out = capsys.readouterr().out
    assert f"call from {CALLER} to {HELPLINE}" in out  # --to defaults to the demo's Asker
    assert f"caller connected to {OLA}" in out
    assert all_signed(helpline)


async def test_the_command_exits_1_on_an_application_error(
    start: Start, capsys: pytest.CaptureFixture[str]
) -> None:
    helpline = await start(token=SANDBOX_AUTH_TOKEN, failing_path="/twilio/voice")
    args = parse("--from", CALLER, "--url", helpline.base_url, "--show-requests")

    assert await args.handler(sandbox_settings(), args) == 1
    captured = capsys.readouterr()
    assert f"    -> POST {PUBLIC}/twilio/voice: 500" in captured.out
    assert "APPLICATION-ERROR: POST" in captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "12345"], "--from: not a valid phone number"),
        (["--from", CALLER, "--to", "hello"], "--to: not a phone number"),
        (["--from", CALLER, "--answer", "everybody"], "--answer: 'everybody' is neither"),
        (["--from", CALLER, "--max-requests", "0"], "--max-requests must be at least 1"),
    ],
)
async def test_the_command_refuses_bad_arguments(argv: list[str], message: str) -> None:
    args = parse(*argv)
    with pytest.raises(CommandError, match=message):
        await args.handler(sandbox_settings(), args)


# --- an SMS ----------------------------------------------------------------------------------


@dataclass
class EmptyOutbox:
    """The outbox of a stand-in that queues nothing: `mark` and `since` are all it needs."""

    marks: int = 0

    async def mark(self) -> int:
        self.marks += 1
        return 41

    async def since(self, mark: int) -> list[Delivered]:
        assert mark == 41
        return []


async def test_an_sms_is_signed_and_a_twiml_message_is_the_reply(
    start: Start, session: aiohttp.ClientSession
) -> None:
    helpline = await start()
    outbox = EmptyOutbox()
    endpoint = Endpoint.at(helpline.base_url, public_url=PUBLIC, auth_token=TOKEN)
    transcript = await simulate_sms(
        session, endpoint, outbox, sender=CALLER, to=HELPLINE, body="Hei"
    )

    assert transcript.ok and outbox.marks == 1
    assert transcript.lines == [
        f"sms from {CALLER} to {HELPLINE}:",
        "    Hei",
        "(<Redirect> in an SMS answer is not simulated; skipped)",
        f"{CALLER} (the sender) receives an SMS from {HELPLINE} (twiml, sent by Twilio):",
        f"    {THANKS}",
        "1 message(s) sent back out",
    ]
    assert all_signed(helpline) and helpline.paths() == ["/twilio/sms"]
    form = helpline.params("/twilio/sms")
    assert (form["From"], form["To"], form["Body"]) == (CALLER, HELPLINE, "Hei")
    assert form["MessageSid"] == transcript.message_sid and form["MessageSid"].startswith("SM")
