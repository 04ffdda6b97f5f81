"""Drive the running app the way Twilio does: signed form posts, TwiML answers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.test_utils import TestClient

from helpline.settings import Settings
from helpline.simulator.forms import incoming_call
from helpline.twilio_signing import SIGNATURE_HEADER, sign
from helpline.web.twilio_auth import signing_token


@dataclass
class TwilioDriver:
    """Posts webhooks signed as Twilio signs them, against the public URL."""

    client: TestClient[web.Request, web.Application]
    settings: Settings
    sent: list[str] = field(default_factory=list)

    def sign(self, url: str, params: dict[str, str]) -> str:
        return sign(url, params, signing_token(self.settings))

    async def post(
        self, url: str, params: dict[str, str], *, signature: str | None = None
    ) -> tuple[int, str]:
        """POST `params` to an absolute public URL (or a path); returns status and body."""
        if url.startswith("/"):
            url = self.settings.public_url + url
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {SIGNATURE_HEADER: signature if signature is not None else self.sign(url, params)}
        response = await self.client.post(path, data=params, headers=headers)
        self.sent.append(path)
        return response.status, await response.text()

    async def twiml(self, url: str, params: dict[str, str]) -> ET.Element:
        status, body = await self.post(url, params)
        assert status == 200, body
        return ET.fromstring(body)


def incoming(call_sid: str, caller: str, dialled: str) -> dict[str, str]:
    """The form Twilio posts for a new inbound call."""
    return incoming_call(call_sid, caller, dialled)


def says(element: ET.Element) -> list[str]:
    return [say.text or "" for say in element.iter("Say")]


def dialled_number(element: ET.Element) -> ET.Element:
    numbers = list(element.iter("Number"))
    assert len(numbers) == 1, ET.tostring(element)
    return numbers[0]
