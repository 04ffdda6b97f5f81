"""Deleting voicemail recordings through Twilio's REST API (`routing.ports.RecordingStore`)."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException

from bots.twilio_sms import DEFAULT_TIMEOUT, TWILIO_API_BASE, TwilioHttpTransport, rest_client
from routing.ports import ChannelError

NOT_FOUND = 404


class TwilioRecordings:
    """`DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json` with the official
    client. A recording Twilio no longer has (404) counts as deleted; anything else that
    fails raises `ChannelError`, and the caller keeps the recording's URL to try again."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        api_base: str = TWILIO_API_BASE,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._api_base = api_base
        self._timeout = timeout
        self._http: TwilioHttpTransport | None = None
        self._client: Any = None  # twilio.rest.Client, untyped

    def _recordings(self) -> Any:
        if self._client is None:  # inside the event loop: aiohttp opens its session here
            self._http = TwilioHttpTransport(timeout=self._timeout)
            self._client = rest_client(
                self._account_sid, self._auth_token, self._api_base, self._http
            )
        return self._client.api.v2010.account.recordings

    async def delete_recording(self, sid: str) -> None:
        """Delete recording `sid` at Twilio for good."""
        try:
            await self._recordings()(sid).delete_async()
        except (TwilioRestException, TwilioServiceException) as exc:
            status = int(exc.status)
            if status == NOT_FOUND:
                return
            raise ChannelError(
                f"Twilio refused to delete recording {sid}: HTTP {status}, Twilio error {exc.code}",
                retryable=status == 429 or status >= 500,
            ) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelError(
                f"Twilio could not be reached to delete recording {sid}: {type(exc).__name__}",
                retryable=True,
            ) from exc

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._http is not None:
            await self._http.close()
            self._http = None
            self._client = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
