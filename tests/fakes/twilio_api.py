"""A fake Twilio REST API (version 2010-04-01) for tests, speaking Twilio's wire format.

It serves the two resources the helpline creates, Messages and Calls, the list of
Messages (newest first, filtered by To and From), and the deletion of Recordings (the
retention purge), with HTTP Basic auth, form-encoded requests, and Twilio's JSON bodies
for both records and errors, so the official `twilio` client runs against it unchanged.
Every request is recorded with its arrival time; failures and slow answers can be
injected for the error paths, and a number can be refused with a Twilio error (21610: the
recipient texted STOP). Status callbacks are posted by `tests.fakes.twilio_callbacks`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import re
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus

from aiohttp import hdrs, web

FAKE_ACCOUNT_SID = "AC" + "0f" * 16
FAKE_AUTH_TOKEN = "fa" * 16
API_VERSION = "2010-04-01"

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_MAX_BODY = 1600
#: Twilio's own error codes for the statuses tests inject most.
_INJECTED_CODES = {429: 20429, 500: 20500, 503: 20503}
# GSM 03.38: the basic set (æøå are in it) and the extension set, whose characters take
# two septets. Any other character makes the whole message UCS-2.
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
#: Twilio's messages for the errors tests make it answer for a number (`refuse`).
_REFUSALS = {
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}

Json = dict[str, object]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received and how it answered."""

    method: str
    path: str
    resource: str  # "Messages", "Calls", "Recordings", or "" for a path it does not serve
    account_sid: str  # the AccountSid in the path
    auth_user: str | None  # the Basic auth user name, None without (valid) Basic auth
    form: dict[str, str]  # form fields; the first value of a repeated field
    status: int  # the HTTP status the fake answered with
    sid: str | None  # the SID of the record created (201) or deleted (204)
    at: float = 0.0  # when it arrived: epoch seconds, or the fake's `stamp` (seconds)

    @property
    def accepted(self) -> bool:
        """Whether Twilio would have queued this message or call."""
        return self.status == HTTPStatus.CREATED


def twilio_error(status: int, code: int, message: str) -> Json:
    """Twilio's JSON error body."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def sms_segments(body: str) -> int:
    """How many SMS segments Twilio bills for `body` (GSM-7 if it fits, else UCS-2)."""
    if all(char in _GSM7_BASIC or char in _GSM7_EXTENSION for char in body):
        units = sum(2 if char in _GSM7_EXTENSION else 1 for char in body)
        single, concatenated = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, concatenated = 70, 67
    return 1 if units <= single else -(-units // concatenated)


class FakeTwilio:
    """The fake API's state: credentials, recorded requests, injected failures and delays."""

    def __init__(
        self,
        *,
        account_sid: str = FAKE_ACCOUNT_SID,
        auth_token: str = FAKE_AUTH_TOKEN,
        clock: Callable[[], datetime] | None = None,
        stamp: Callable[[], float] = time.time,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.base_url = ""  # set by `running_fake_twilio` once the port is known
        self.requests: list[RecordedRequest] = []
        self.recordings: set[str] = set()  # RecordingSids the account holds; see add_recording
        self._clock = clock or (lambda: datetime.now(UTC))
        self._stamp = stamp  # what `RecordedRequest.at` reads: a test's simulated time, say
        self._failures: deque[int] = deque()
        self._delays: deque[float] = deque()
        self._released = asyncio.Event()
        self.holding = 0  # answers held back right now (see delay_next)
        self.refused: dict[str, tuple[int, str]] = {}  # To -> (Twilio error code, message)
        self.created: list[Json] = []  # the Message records accepted, oldest first
        self.on_message: list[Callable[[Json], None]] = []  # told of each accepted message
        self.app = web.Application()
        self.app.router.add_post(
            f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json", self._messages
        )
        self.app.router.add_get(
            f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json", self._message_list
        )
        self.app.router.add_post(f"/{API_VERSION}/Accounts/{{account_sid}}/Calls.json", self._calls)
        self.app.router.add_delete(
            f"/{API_VERSION}/Accounts/{{account_sid}}/Recordings/{{sid:[^/.]+}}.json",
            self._delete_recording,
        )
        self.app.router.add_route("*", "/{tail:.*}", self._not_found)

    @property
    def messages(self) -> list[RecordedRequest]:
        """Every request to the Messages resource, accepted or not, oldest first."""
        return [request for request in self.requests if request.resource == "Messages"]

    @property
    def calls(self) -> list[RecordedRequest]:
        """Every request to the Calls resource, accepted or not, oldest first."""
        return [request for request in self.requests if request.resource == "Calls"]

    @property
    def deleted_recordings(self) -> list[str]:
        """The RecordingSids deleted (answered 204), oldest first."""
        return [
            r.sid or ""
            for r in self.requests
            if r.resource == "Recordings" and r.status == HTTPStatus.NO_CONTENT
        ]

    def add_recording(self, sid: str | None = None) -> str:
        """Give the account a recording (as a voicemail would); returns its SID."""
        sid = sid or "RE" + secrets.token_hex(16)
        self.recordings.add(sid)
        return sid

    def recording_url(self, sid: str) -> str:
        """The RecordingUrl Twilio sends for `sid` in a recording callback."""
        return f"https://api.twilio.com/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}"

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next `count` requests with `status` and Twilio's error body."""
        if status < 400 or count < 1:
            raise ValueError(f"fail_next needs an error status and a positive count: {status}")
        self._failures.extend([status] * count)

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """Hold the next `count` answers back for `seconds` (released when the fake stops)."""
        self._delays.extend([seconds] * count)

    def release(self) -> None:
        """Let every held-back answer go now."""
        self._released.set()

    def refuse(self, to: str, code: int = 21610) -> None:
        """Refuse every message to `to` with Twilio's 400 and `code` (default 21610, the
        recipient replied STOP to the sending number)."""
        self.refused[to] = (code, _REFUSALS.get(code, "The message could not be sent."))

    def allow(self, to: str) -> None:
        """`to` texted START to the sending number: Twilio sends to them again."""
        self.refused.pop(to, None)

    async def _messages(self, request: web.Request) -> web.Response:
        return await self._serve(request, "Messages")

    async def _calls(self, request: web.Request) -> web.Response:
        return await self._serve(request, "Calls")

    async def _delete_recording(self, request: web.Request) -> web.StreamResponse:
        """Twilio answers a deleted recording with 204 and no body; an unknown one is 404."""
        sid = request.match_info["sid"]
        await self._held_back()
        status, payload = self._deletion(request, sid)
        self._record(request, "Recordings", {}, status, sid if status == 204 else None)
        if status == HTTPStatus.NO_CONTENT:
            return web.Response(status=status)
        headers = {}
        if status == HTTPStatus.UNAUTHORIZED:
            headers[hdrs.WWW_AUTHENTICATE] = 'Basic realm="Twilio API"'
        return web.json_response(payload, status=status, headers=headers)

    async def _held_back(self) -> None:
        """Hold this answer back if `delay_next` asked for it."""
        if not self._delays:
            return
        self.holding += 1
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), self._delays.popleft())
        finally:
            self.holding -= 1

    def _deletion(self, request: web.Request, sid: str) -> tuple[int, Json]:
        if self._failures:
            status = self._failures.popleft()
            return status, twilio_error(
                status, _INJECTED_CODES.get(status, status), HTTPStatus(status).phrase
            )
        if _credentials(request) != (self.account_sid, self.auth_token):
            return HTTPStatus.UNAUTHORIZED, twilio_error(401, 20003, "Authenticate")
        if request.match_info["account_sid"] != self.account_sid or sid not in self.recordings:
            return HTTPStatus.NOT_FOUND, _not_found_body(request.path)
        self.recordings.discard(sid)
        return HTTPStatus.NO_CONTENT, {}

    async def _not_found(self, request: web.Request) -> web.Response:
        self._record(request, "", {}, HTTPStatus.NOT_FOUND, None)
        return _not_found_response(request.path)

    async def _serve(self, request: web.Request, resource: str) -> web.Response:
        post = await request.post()
        fields = _first_values(post.items())
        num_media = len(post.getall("MediaUrl", []))
        await self._held_back()
        status, payload = self._answer(request, resource, fields, num_media)
        sid = payload["sid"] if status == HTTPStatus.CREATED else None
        self._record(request, resource, fields, status, sid if isinstance(sid, str) else None)
        headers = {}
        if status == HTTPStatus.UNAUTHORIZED:
            headers[hdrs.WWW_AUTHENTICATE] = 'Basic realm="Twilio API"'
        return web.json_response(payload, status=status, headers=headers)

    def _answer(
        self,
        request: web.Request,
        resource: str,
        fields: Mapping[str, str],
        num_media: int,
    ) -> tuple[int, Json]:
        if self._failures:
            status = self._failures.popleft()
            code = _INJECTED_CODES.get(status, status)
            return status, twilio_error(status, code, HTTPStatus(status).phrase)
        if _credentials(request) != (self.account_sid, self.auth_token):
            return HTTPStatus.UNAUTHORIZED, twilio_error(401, 20003, "Authenticate")
        account = request.match_info["account_sid"]
        if account != self.account_sid:
            return HTTPStatus.NOT_FOUND, _not_found_body(request.path)
        if resource == "Messages":
            problem = _message_problem(fields)
            if problem is None and fields["To"] in self.refused:
                code, message = self.refused[fields["To"]]
                problem = twilio_error(400, code, message)
            if problem is not None:
                return HTTPStatus.BAD_REQUEST, problem
            record = self._message(account, fields, num_media)
            self.created.append(record)
            for listener in self.on_message:
                listener(record)
            return HTTPStatus.CREATED, record
        problem = _call_problem(fields)
        if problem is not None:
            return HTTPStatus.BAD_REQUEST, problem
        return HTTPStatus.CREATED, self._call(account, fields)

    def _record(
        self,
        request: web.Request,
        resource: str,
        fields: dict[str, str],
        status: int,
        sid: str | None,
    ) -> None:
        credentials = _credentials(request)
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                resource=resource,
                account_sid=request.match_info.get("account_sid", ""),
                auth_user=credentials[0] if credentials else None,
                form=fields,
                status=int(status),
                sid=sid,
                at=self._stamp(),
            )
        )

    async def _message_list(self, request: web.Request) -> web.Response:
        """Twilio's Message list page: the newest first, filtered by `To` and `From`."""
        if _credentials(request) != (self.account_sid, self.auth_token):
            return web.json_response(twilio_error(401, 20003, "Authenticate"), status=401)
        query = request.query
        size = query.get("PageSize", "50")
        page_size = int(size) if size.isdigit() else 50
        filters = (("to", "To"), ("from", "From"))
        wanted = {key: query[name] for key, name in filters if name in query}
        found = [
            record
            for record in reversed(self.created)
            if all(record[key] == value for key, value in wanted.items())
        ][:page_size]
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        return web.json_response({
            "messages": found, "end": max(0, len(found) - 1), "first_page_uri": uri,
            "next_page_uri": None, "page": 0, "page_size": page_size,
            "previous_page_uri": None, "start": 0, "uri": uri,
        })  # fmt: skip

    def _now(self) -> str:
        return format_datetime(self._clock().astimezone(UTC))

    def _message(self, account: str, fields: Mapping[str, str], num_media: int) -> Json:
        sid = "SM" + secrets.token_hex(16)
        uri = f"/{API_VERSION}/Accounts/{account}/Messages/{sid}"
        now = self._now()
        body = fields.get("Body", "")
        return {
            "account_sid": account,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": fields.get("From"),
            "messaging_service_sid": fields.get("MessagingServiceSid"),
            "num_media": str(num_media),
            "num_segments": str(sms_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            "to": fields["To"],
            "uri": f"{uri}.json",
        }

    def _call(self, account: str, fields: Mapping[str, str]) -> Json:
        sid = "CA" + secrets.token_hex(16)
        uri = f"/{API_VERSION}/Accounts/{account}/Calls/{sid}"
        now = self._now()
        return {
            "account_sid": account,
            "annotation": None,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": fields["From"],
            "from_formatted": fields["From"],
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": sid,
            "start_time": None,
            "status": "queued",
            "subresource_uris": {
                "notifications": f"{uri}/Notifications.json",
                "recordings": f"{uri}/Recordings.json",
                "events": f"{uri}/Events.json",
            },
            "to": fields["To"],
            "to_formatted": fields["To"],
            "trunk_sid": None,
            "uri": f"{uri}.json",
        }


def _first_values(items: Iterable[tuple[str, object]]) -> dict[str, str]:
    """The form's text fields, the first value of each (uploads are not Twilio's format)."""
    fields: dict[str, str] = {}
    for key, value in items:
        if isinstance(value, str):
            fields.setdefault(key, value)
    return fields


def _credentials(request: web.Request) -> tuple[str, str] | None:
    """The (user, password) of a Basic `Authorization` header, None without a valid one."""
    scheme, _, encoded = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def _not_found_body(path: str) -> Json:
    return twilio_error(404, 20404, f"The requested resource {path} was not found")


def _not_found_response(path: str) -> web.Response:
    return web.json_response(_not_found_body(path), status=HTTPStatus.NOT_FOUND)


def _to_problem(fields: Mapping[str, str], missing_code: int, missing: str) -> Json | None:
    to = fields.get("To")
    if not to:
        return twilio_error(400, missing_code, missing)
    if not _E164.fullmatch(to):
        return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    return None


def _message_problem(fields: Mapping[str, str]) -> Json | None:
    """Twilio's 400 error for an invalid Messages request, or None when it is valid."""
    problem = _to_problem(fields, 21604, "A 'To' phone number is required.")
    if problem is not None:
        return problem
    if not fields.get("From") and not fields.get("MessagingServiceSid"):
        return twilio_error(400, 21603, "A 'From' phone number is required.")
    body = fields.get("Body", "")
    if not body and "MediaUrl" not in fields and "ContentSid" not in fields:
        return twilio_error(400, 21602, "Message body is required.")
    if len(body) > _MAX_BODY:
        return twilio_error(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    return None


def _call_problem(fields: Mapping[str, str]) -> Json | None:
    """Twilio's 400 error for an invalid Calls request, or None when it is valid."""
    problem = _to_problem(fields, 21201, "No 'To' number is specified")
    if problem is not None:
        return problem
    if not fields.get("From"):
        return twilio_error(400, 21213, "No 'From' number is specified")
    if not any(fields.get(key) for key in ("Url", "Twiml", "ApplicationSid")):
        return twilio_error(400, 21205, "Url parameter is required.")
    return None


@contextlib.asynccontextmanager
async def running_fake_twilio(
    *,
    account_sid: str = FAKE_ACCOUNT_SID,
    auth_token: str = FAKE_AUTH_TOKEN,
    clock: Callable[[], datetime] | None = None,
    stamp: Callable[[], float] = time.time,
) -> AsyncIterator[FakeTwilio]:
    """Serve a `FakeTwilio` on 127.0.0.1 at a free port; `.base_url` is its address."""
    fake = FakeTwilio(account_sid=account_sid, auth_token=auth_token, clock=clock, stamp=stamp)
    runner = web.AppRunner(fake.app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        fake.base_url = f"http://{host}:{port}"
        yield fake
    finally:
        fake.release()
        await runner.cleanup()
