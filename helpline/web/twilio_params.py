"""What a Twilio webhook may carry: one value per key, each known field in its shape.

Twilio never repeats a key on the webhooks we serve, so a repeated key is refused rather
than resolved one way or the other: the signature check and the handlers then read the
very same mapping. Fields the service reads are checked against the shapes Twilio sends;
a value that would not fit a column, or that is no number where one is parsed, is refused
before any handler runs, so a refused request stores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

#: More fields than Twilio ever sends on one webhook (it sends about 20).
MAX_FIELDS = 100
MAX_KEY = 64
MAX_VALUE = 4096

_SID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# A phone number, "anonymous", a short code or an alphanumeric sender id; the contacts
# table keeps unnormalised numbers in 32 characters.
_ADDRESS = re.compile(r"[^\x00-\x1f\x7f]{1,32}")
_STATUS = re.compile(r"[a-z-]{1,20}")
_COUNT = re.compile(r"[0-9]{1,9}")
_DIGITS = re.compile(r"[0-9*#]{0,32}")
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]{1,2000}")
# Twilio delivers at most 1,600 characters of an SMS body.
_BODY = re.compile(r"[^\x00]{0,1600}", re.DOTALL)
_KEY = re.compile(r"[^\x00-\x1f\x7f]{1,64}")  # MAX_KEY

FIELDS: Mapping[str, re.Pattern[str]] = MappingProxyType(
    {
        **dict.fromkeys(
            ("CallSid", "ParentCallSid", "DialCallSid", "MessageSid", "SmsSid",
             "SmsMessageSid", "AccountSid", "RecordingSid", "MessagingServiceSid"),
            _SID,
        ),
        **dict.fromkeys(("From", "To", "Caller", "Called"), _ADDRESS),
        **dict.fromkeys(("CallStatus", "DialCallStatus", "MessageStatus", "SmsStatus"),
                        _STATUS),
        **dict.fromkeys(
            ("CallDuration", "DialCallDuration", "RecordingDuration", "NumMedia",
             "NumSegments", "ErrorCode"),
            _COUNT,
        ),
        "Digits": _DIGITS,
        "RecordingUrl": _URL,
        "Body": _BODY,
    }
)  # fmt: skip

#: Query parameters are ids and step numbers the service put into its own TwiML URLs.
_NUMBER = re.compile(r"[0-9]{1,9}")
_LOWEST: Mapping[str, int] = MappingProxyType({"contact": 1, "step": 0})


class BadParams(ValueError):
    """A webhook's parameters are not what Twilio sends; the text says why, in English."""


@dataclass(frozen=True, slots=True)
class Route:
    """What one webhook needs: required form fields and required query numbers."""

    required: frozenset[str]
    numbers: tuple[str, ...] = ()


_CALL = frozenset({"CallSid"})
ROUTES: Mapping[str, Route] = MappingProxyType(
    {
        "/twilio/voice": Route(_CALL),
        "/twilio/voice/screen": Route(_CALL, ("contact", "step")),
        "/twilio/voice/screened": Route(_CALL, ("contact", "step")),
        "/twilio/voice/dialled": Route(_CALL, ("contact", "step")),
        "/twilio/voice/recorded": Route(_CALL, ("contact",)),
        # A call's (CallSid) or a message's (MessageSid, MessageStatus): the handler tells.
        "/twilio/status": Route(frozenset()),
        "/twilio/sms": Route(frozenset({"MessageSid", "From"})),
    }
)


@dataclass(frozen=True, slots=True)
class TwilioParams:
    """A verified webhook: its form and the numbers of its query, one value each."""

    form: Mapping[str, str]
    numbers: Mapping[str, int]

    def get(self, key: str) -> str:
        """A form field, or "" when Twilio did not send it."""
        return self.form.get(key, "")


def single_valued(pairs: Iterable[tuple[str, object]], what: str) -> dict[str, str]:
    """`pairs` as a mapping; `BadParams` on a repeated key, a file, or a NUL character."""
    mapping: dict[str, str] = {}
    for key, value in pairs:
        if not isinstance(value, str):
            raise BadParams(f"{what} {_name(key)} is not text")
        if key in mapping:
            raise BadParams(f"{what} {_name(key)} is repeated")
        if len(mapping) >= MAX_FIELDS:
            raise BadParams(f"more than {MAX_FIELDS} {what}s")
        if not _KEY.fullmatch(key):
            raise BadParams(f"{what} name {_name(key)} is malformed")
        if "\x00" in value or len(value) > MAX_VALUE:
            raise BadParams(f"{what} {_name(key)} is malformed")
        mapping[key] = value
    return mapping


def checked(route: Route, form: Mapping[str, str], query: Mapping[str, str]) -> TwilioParams:
    """The webhook's values for `route` once every known field has its shape."""
    missing = sorted(route.required - form.keys())
    if missing:
        raise BadParams(f"form field {missing[0]!r} is missing")
    for key, value in form.items():
        shape = FIELDS.get(key)
        if shape is not None and not shape.fullmatch(value):
            raise BadParams(f"form field {key!r} is malformed")
    numbers: dict[str, int] = {}
    for name in route.numbers:
        given = query.get(name, "")
        lowest = _LOWEST[name]
        if not _NUMBER.fullmatch(given) or int(given) < lowest:
            raise BadParams(f"query parameter {name!r} must be a whole number from {lowest}")
        numbers[name] = int(given)
    return TwilioParams(MappingProxyType(dict(form)), MappingProxyType(numbers))


def _name(key: str) -> str:
    return repr(key[:MAX_KEY])
