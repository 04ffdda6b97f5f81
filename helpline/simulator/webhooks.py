"""The simulator's side of the webhooks: signed requests as Twilio sends them, and the TwiML
documents the service answers with."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin

import aiohttp

from helpline.simulator.forms import SANDBOX_ACCOUNT_SID
from helpline.simulator.transcript import Exchange, Outcome, Record, ServiceUnreachable
from helpline.twilio_signing import signed_headers
from helpline.web.twilio_auth import SANDBOX_AUTH_TOKEN

log = logging.getLogger(__name__)

_BODY_SHOWN = 500
#: Twilio gives a webhook 15 s to answer before it gives up (a call hears the error).
WEBHOOK_TIMEOUT = 15.0


class Stop(Exception):
    """Ends the whole simulation: the service failed or looped."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where requests go (`base_url`) and what they are signed for (`public_url`)."""

    base_url: str
    public_url: str
    auth_token: str
    account_sid: str
    timeout: float

    @classmethod
    def at(
        cls,
        base_url: str,
        *,
        public_url: str | None = None,
        auth_token: str = SANDBOX_AUTH_TOKEN,
        account_sid: str = SANDBOX_ACCOUNT_SID,
        timeout: float = WEBHOOK_TIMEOUT,
    ) -> Endpoint:
        """The service listening on `base_url`: requests go there, signed with `auth_token`
        over `public_url` (default: `base_url`) plus path and query, as the service checks
        them against its HELPLINE_PUBLIC_URL; TwiML URLs under `public_url` go there too."""
        public = (public_url or base_url).rstrip("/")
        return cls(base_url.rstrip("/"), public, auth_token, account_sid, timeout)

    def transport(self, url: str) -> str:
        """Where to send a request for the public `url`."""
        public = self.public_url
        if url == public or url.startswith((public + "/", public + "?")):
            return self.base_url + url[len(public) :]
        return url


@dataclass(frozen=True, slots=True)
class Reply:
    """What one request got: the exchange (status None: no answer in time) and the body."""

    exchange: Exchange
    body: str


async def send_signed(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    url: str,
    method: str,
    params: Mapping[str, str],
) -> Reply:
    """One request to the public `url`, signed as Twilio signs it. GET carries the parameters
    in the (signed) query string. Raises `ServiceUnreachable` when nothing accepts the
    connection and `Stop` on any other transport error."""
    log.debug("%s %s", method, url)  # before GET adds the parameters: no phone numbers
    if method == "GET":
        url = url + ("&" if "?" in url else "?") + urlencode(params)
        form: dict[str, str] | None = None
    else:
        form = dict(params)
    headers = signed_headers(url, form or {}, endpoint.auth_token)
    target = endpoint.transport(url)
    try:
        async with session.request(
            method,
            target,
            data=form,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=endpoint.timeout),
        ) as response:
            status, body = response.status, await response.read()
    except TimeoutError:
        return Reply(Exchange(method, url, None), "")
    except aiohttp.ClientConnectorError as error:
        raise ServiceUnreachable(
            f"cannot reach the service at {target}: {error.os_error.strerror or error}"
        ) from None
    except aiohttp.ClientError as error:
        raise Stop(Outcome.APPLICATION_ERROR, f"{method} {url}: {error!r}") from None
    return Reply(Exchange(method, url, status), body.decode("utf-8", errors="replace"))


@dataclass(frozen=True, slots=True)
class Document:
    """A TwiML document: the public URL it came from (relative URLs resolve against it)."""

    url: str
    verbs: list[ET.Element]


class Webhooks:
    """The webhook requests of one simulation, noted in its record and capped in number."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        endpoint: Endpoint,
        transcript: Record,
        max_requests: int,
    ) -> None:
        self.session = session
        self.endpoint = endpoint
        self.transcript = transcript
        self.max_requests = max_requests
        self.requests = 0

    async def fetch(self, url: str, method: str, params: Mapping[str, str]) -> Document:
        """Request TwiML the way Twilio does; an HTTP error or invalid TwiML stops the call."""
        self.requests += 1
        if self.requests > self.max_requests:
            raise Stop(
                Outcome.TOO_MANY_REQUESTS,
                f"more than {self.max_requests} webhook requests in one call; does the "
                f"TwiML loop? (next was {method} {url})",
            )
        status, body = await self.send(url, method, params)
        if status != 200:
            raise Stop(
                Outcome.APPLICATION_ERROR,
                f"{method} {url} answered HTTP {status}: {shorten(body)}",
            )
        return Document(url=url, verbs=parse_twiml(body, f"{method} {url}"))

    async def send(self, url: str, method: str, params: Mapping[str, str]) -> tuple[int, str]:
        """One signed request, noted in the transcript; no answer in time stops the call."""
        try:
            reply = await send_signed(self.session, self.endpoint, url, method, params)
        except ServiceUnreachable as error:
            raise ServiceUnreachable(str(error), self.transcript) from None
        self.transcript.entries.append(reply.exchange)
        if reply.exchange.status is None:
            raise Stop(
                Outcome.APPLICATION_ERROR,
                f"{method} {url}: no answer within {self.endpoint.timeout:g} s",
            )
        return reply.exchange.status, reply.body

    async def notify(self, url: str, params: Mapping[str, str], what: str) -> None:
        """A callback whose answer is not TwiML (call or recording status): any 2xx is fine."""
        try:
            status, body = await self.send(url, "POST", params)
        except Stop as stop:
            message = stop.message
        else:
            if 200 <= status < 300:
                return
            message = f"POST {url} answered HTTP {status}: {shorten(body)}"
        self.transcript.entries.append(f"{what.upper()} ERROR: {message}")
        if self.transcript.ok:
            self.transcript.outcome = Outcome.STATUS_CALLBACK_ERROR
            self.transcript.error = f"the {what} failed: {message}"


def parse_twiml(body: str, source: str) -> list[ET.Element]:
    """The verbs of a TwiML `<Response>`; anything else stops the call."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise Stop(
            Outcome.APPLICATION_ERROR,
            f"{source} answered no valid TwiML ({error}): {shorten(body)}",
        ) from None
    if root.tag != "Response":
        raise Stop(
            Outcome.APPLICATION_ERROR, f"{source} answered <{root.tag}>, not TwiML <Response>"
        )
    return list(root)


def resolve(document: Document, url: str | None) -> str:
    """`url` against the document's URL; Twilio's default for a missing action is the document."""
    return urljoin(document.url, url.strip()) if url and url.strip() else document.url


def method_of(verb: ET.Element) -> str:
    """The HTTP method a verb asks for (POST by default)."""
    method = (verb.get("method") or "POST").upper()
    if method not in ("GET", "POST"):
        raise Stop(Outcome.APPLICATION_ERROR, f"<{verb.tag} method={method!r}>: not GET or POST")
    return method


def int_attr(verb: ET.Element, name: str, default: int) -> int:
    """A whole-number attribute of a verb; anything else stops the call."""
    text = verb.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise Stop(
            Outcome.APPLICATION_ERROR, f"<{verb.tag} {name}={text!r}>: not a whole number"
        ) from None


def shorten(body: str) -> str:
    """A body squeezed onto one line, cut after 500 characters."""
    text = " ".join(body.split())
    return text if len(text) <= _BODY_SHOWN else text[:_BODY_SHOWN] + " ..."
