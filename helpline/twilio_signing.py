"""Signing webhooks the way Twilio signs them: the client side of `X-Twilio-Signature`.

The simulator, the benchmarks and the tests post webhooks signed here; the service checks
them with the same library's `RequestValidator.validate` (`helpline.web.twilio_auth`).
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def sign(url: str, params: Mapping[str, str], token: str) -> str:
    """`X-Twilio-Signature` of a request to `url` (the full public URL, query included)
    with form `params` (empty for a GET), signed with the auth token `token`."""
    return str(RequestValidator(token).compute_signature(url, dict(params)))


def signed_headers(url: str, params: Mapping[str, str], token: str) -> dict[str, str]:
    """The headers of a request to `url` with form `params`, signed as Twilio signs it."""
    return {SIGNATURE_HEADER: sign(url, params, token)}
