"""Phone numbers: one canonical form (E.164) everywhere, and a masked form for logs."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

#: Digits left visible at the end of a masked number.
_VISIBLE_TAIL = 3
_MASK = "•"
#: A number as Twilio and this service write it: `+`, then country code and number.
_E164 = re.compile(r"\+([1-9]\d{6,14})")


class InvalidPhone(ValueError):
    """A text that is not a valid, dialable phone number."""


def normalise_phone(text: str, region: str = "NO") -> str:
    """The E.164 form (`+4791234567`) of `text`, read as a number dialled from `region`.

    Accepts spaces, `00` and `+` prefixes and national numbers; raises `InvalidPhone` (its
    message shows the text masked, as it may reach a log) for anything that is not valid.
    """
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {mask_phone(text)!r}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"not a valid phone number: {mask_phone(text)!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=8192)
def e164_or_none(text: str, region: str = "NO") -> str | None:
    """`normalise_phone(text)`, or None when `text` is no valid number (e.g. an anonymous
    caller): for inbound events, which are helped whatever their number. Remembered for
    the numbers seen most (every webhook parses two, the helpline's own among them)."""
    try:
        return normalise_phone(text, region)
    except InvalidPhone:
        return None


def mask_phone(e164: str) -> str:
    """`+4791234567` as `+47•••••567`: country code and last three digits, for logs.

    Never raises: anything that is not E.164 keeps only its last three characters.
    An E.164 number is split at its country code without parsing it, which took a
    fifteenth of a voice webhook (py-spy); country codes are prefix-free, so the first
    of one, two or three digits that is one is it.
    """
    written = _E164.fullmatch(e164)
    if written is not None:
        digits = written[1]
        for length in (1, 2, 3):
            if int(digits[:length]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                return _masked(digits[:length], digits[length:])
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or number.country_code is None or number.national_number is None:
        hidden = max(len(e164) - _VISIBLE_TAIL, 0)
        return _MASK * hidden + e164[hidden:]
    return _masked(str(number.country_code), phonenumbers.national_significant_number(number))


def _masked(country_code: str, national: str) -> str:
    hidden = max(len(national) - _VISIBLE_TAIL, 0)
    return f"+{country_code}{_MASK * hidden}{national[hidden:]}"


def readable_phone(e164: str, region: str = "NO") -> str:
    """`+4767000001` as a person writes it: `67 00 00 01` at home, `+46 70 123 45 67`
    abroad; anything that is not E.164 is given back as it is."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == region:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
