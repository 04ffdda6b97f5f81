"""Status callbacks of the fake Twilio: what Twilio posts to a message's StatusCallback.

Twilio posts a form (MessageSid, MessageStatus, SmsSid, SmsStatus, From, To, AccountSid,
ApiVersion, and ErrorCode when the message failed) signed with the account's auth token in
`X-Twilio-Signature`. Tests post them by hand (`post`, twice for a duplicate), or let every
accepted message be followed by a sequence of them (`automatic`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp
from twilio.request_validator import RequestValidator

from tests.fakes.twilio_api import API_VERSION, FakeTwilio, Json

SIGNATURE_HEADER = "X-Twilio-Signature"


@dataclass
class StatusCallbacks:
    """Posts status callbacks for the messages a `FakeTwilio` accepted."""

    fake: FakeTwilio
    session: aiohttp.ClientSession
    posted: list[tuple[str, str, int]] = field(default_factory=list)  # sid, status, HTTP
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # The fake's records and requests by SID, indexed as they come (both lists only grow):
    # a benchmark posts tens of thousands of callbacks, and a scan for each is quadratic.
    _records: dict[str, Json] = field(default_factory=dict)
    _urls: dict[str, str | None] = field(default_factory=dict)
    _indexed: tuple[int, int] = (0, 0)

    def record(self, sid: str) -> Json:
        """The Message record the fake created with this SID."""
        self._index()
        return self._records[sid]

    def form(self, record: Json, status: str, error_code: int | None = None) -> dict[str, str]:
        """The form Twilio posts for `record` reaching `status`."""
        form = {
            "AccountSid": str(record["account_sid"]),
            "ApiVersion": API_VERSION,
            "From": str(record["from"]),
            "MessageSid": str(record["sid"]),
            "MessageStatus": status,
            "SmsSid": str(record["sid"]),
            "SmsStatus": status,
            "To": str(record["to"]),
        }
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        return form

    async def post(self, sid: str, status: str, error_code: int | None = None) -> int:
        """Post the callback for message `sid` reaching `status`; the webhook's HTTP status
        (0 when the message asked for no callback or the webhook could not be reached)."""
        record = self.record(sid)
        url = self._callback_url(sid)
        if url is None:
            return 0
        form = self.form(record, status, error_code)
        signature = RequestValidator(self.fake.auth_token).compute_signature(url, form)
        try:
            async with self.session.post(
                url, data=form, headers={SIGNATURE_HEADER: signature}
            ) as response:
                code = response.status
        except aiohttp.ClientError:
            code = 0
        self.posted.append((sid, status, code))
        return code

    def automatic(
        self, statuses: Sequence[str] = ("sent", "delivered"), delay: float = 0.05
    ) -> None:
        """From now on, follow every accepted message by these callbacks, `delay` apart."""

        def follow(record: Json) -> None:
            task = asyncio.get_running_loop().create_task(self._follow(record, statuses, delay))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self.fake.on_message.append(follow)

    async def _follow(self, record: Json, statuses: Sequence[str], delay: float) -> None:
        for status in statuses:
            await asyncio.sleep(delay)
            await self.post(str(record["sid"]), status)

    async def drain(self) -> None:
        """Wait for the automatic callbacks under way."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _callback_url(self, sid: str) -> str | None:
        self._index()
        return self._urls.get(sid)

    def _index(self) -> None:
        records, requests = self._indexed
        for record in self.fake.created[records:]:
            self._records.setdefault(str(record["sid"]), record)
        for request in self.fake.requests[requests:]:
            if request.resource == "Messages" and request.sid is not None:
                self._urls.setdefault(request.sid, request.form.get("StatusCallback"))
        self._indexed = (len(self.fake.created), len(self.fake.requests))
