"""Outgoing SMS through Twilio's REST API, with the official client's aiohttp transport."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from rota.phones import mask_phone
from routing.delivery import CARRIER_STOP
from routing.ports import STOPPED, ChannelError, Sent

TWILIO_API_BASE = "https://api.twilio.com"
#: Seconds one request to Twilio may take, connecting and reading included.
DEFAULT_TIMEOUT = 15.0
#: How many of the latest messages between two numbers `find_sent` looks through.
LOOKUP_PAGE = 20


# Subclassing the untyped client is twilio's documented way to customise its transport.
class TwilioHttpTransport(AsyncTwilioHttpClient):  # type: ignore[misc]  # twilio has no types
    """`AsyncTwilioHttpClient` with two twilio 9.x defects fixed, for every REST adapter.

    * It hands Basic auth to aiohttp as `auth=BasicAuth(...)`, deprecated since aiohttp 3.13
      (a `DeprecationWarning` per request); we send the `Authorization` header instead.
    * It ignores its own `timeout` and passes `timeout=None` per request, which turns off
      even aiohttp's default timeout; we pass the client's timeout when none is given.
    """

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  # twilio's HttpClient signature
        allow_redirects: bool = False,
    ) -> Response:
        """Make one request; see `AsyncTwilioHttpClient.request`."""
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = aiohttp.encode_basic_auth(*auth)
        response: Response = await super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=None,
            timeout=self.timeout if timeout is None else timeout,
            allow_redirects=allow_redirects,
        )
        return response


def rest_client(account_sid: str, auth_token: str, api_base: str, http: TwilioHttpTransport) -> Any:
    """twilio's REST `Client` (untyped) on our transport, sending every request to
    `api_base`. Build it inside the running event loop (the transport opens there)."""
    client = Client(account_sid, auth_token, http_client=http)
    # The client reads TWILIO_EDGE/TWILIO_REGION from os.environ and would rewrite the host
    # of every URL with them; our base URL is the only routing we want.
    client.edge = None
    client.region = None
    # Each Twilio domain is a `twilio.base.domain.Domain` whose `base_url` prefixes every
    # request URL (`absolute_url`); `client.api` is created once and cached.
    client.api.base_url = api_base
    return client


class TwilioRestAdapter:
    """The lifecycle every adapter over twilio's REST client shares: the HTTP session is
    opened on first use, inside the running event loop, and closed by `close()` (or
    leaving `async with`); a closed adapter cannot be used again."""

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
        self._closed = False

    def _account(self) -> Any:
        """The account's REST resources (`client.api.v2010.account`), built on first use."""
        if self._closed:
            raise RuntimeError(f"{type(self).__name__} is closed")
        if self._client is None:
            # aiohttp creates the session here, so this must run inside the event loop.
            self._http = TwilioHttpTransport(timeout=self._timeout)
            self._client = rest_client(
                self._account_sid, self._auth_token, self._api_base, self._http
            )
        return self._client.api.v2010.account

    async def close(self) -> None:
        """Close the HTTP session; the adapter cannot be used afterwards."""
        self._closed = True
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


class TwilioSms(TwilioRestAdapter):
    """`routing.ports.SmsSender` over Twilio's Messages API.

    Requests are not retried here: a retried POST can send the SMS twice, so the caller
    decides, from `retryable`.
    """

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        api_base: str = TWILIO_API_BASE,
        status_callback: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(
            account_sid=account_sid, auth_token=auth_token, api_base=api_base, timeout=timeout
        )
        self._status_callback = status_callback

    def _messages(self) -> Any:
        """The account's Messages resource (twilio's `MessageList`)."""
        return self._account().messages

    async def send_sms(self, *, to: str, from_: str, body: str) -> Sent:
        """Send `body` to `to` from `from_`; the `Sent` carries Twilio's Message SID."""
        extra: dict[str, str] = {}
        if self._status_callback is not None:
            extra["status_callback"] = self._status_callback
        messages = self._messages()
        try:
            message = await messages.create_async(to=to, from_=from_, body=body, **extra)
        except (TwilioRestException, TwilioServiceException) as exc:
            status = int(exc.status)
            code = exc.code if isinstance(exc.code, int) else None
            # `from None`: Twilio's own message may quote the number (error 21211), and a
            # logged traceback shows every chained exception.
            raise ChannelError(
                f"Twilio refused the SMS to {mask_phone(to)}: HTTP {status}, "
                f"Twilio error {exc.code}",
                retryable=status == 429 or status >= 500,
                code=code if code is not None else status,
                reason=STOPPED if code == CARRIER_STOP else None,
            ) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelError(
                f"Twilio could not be reached for the SMS to {mask_phone(to)}: "
                f"{type(exc).__name__}",
                retryable=True,
            ) from exc
        sid = message.sid
        if not isinstance(sid, str) or not sid:
            raise ChannelError(
                f"Twilio accepted the SMS to {mask_phone(to)} without a Message SID",
                retryable=False,
            )
        return Sent(channel="sms", provider_id=sid)

    async def find_sent(self, *, to: str, from_: str, body: str, since: datetime) -> str | None:
        """The SID of a message with `body` Twilio took from `from_` to `to` at or after
        `since` (Message list, newest first, the latest `LOOKUP_PAGE`), or None."""
        try:
            found = await self._messages().list_async(to=to, from_=from_, limit=LOOKUP_PAGE)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise ChannelError(
                f"Twilio could not list the messages to {mask_phone(to)}: HTTP {exc.status}",
                retryable=True,
                code=exc.code if isinstance(exc.code, int) else int(exc.status),
            ) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelError(
                f"Twilio could not be reached to list the messages to {mask_phone(to)}: "
                f"{type(exc).__name__}",
                retryable=True,
            ) from exc
        earliest = since - timedelta(seconds=1)  # Twilio's times are whole seconds
        for message in found:
            created = message.date_created
            if message.body == body and isinstance(created, datetime) and created >= earliest:
                return str(message.sid)
        return None
