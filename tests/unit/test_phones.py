"""Phone numbers: normalised to E.164, masked for logs."""

from __future__ import annotations

import phonenumbers
import pytest

from rota.phones import InvalidPhone, e164_or_none, mask_phone, normalise_phone, readable_phone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("912 34 567", "+4791234567"),
        ("91234567", "+4791234567"),
        ("0047 912 34 567", "+4791234567"),
        ("+47 912 34 567", "+4791234567"),
        ("+4791234567", "+4791234567"),
        (" +47 41 23 45 01 ", "+4741234501"),
        ("67 00 00 01", "+4767000001"),  # landline (Asker)
        ("+46 70 123 45 67", "+46701234567"),  # Swedish mobile
        ("0046 70 123 45 67", "+46701234567"),
    ],
)
def test_normalise_phone_accepts_common_spellings(text: str, expected: str) -> None:
    assert normalise_phone(text) == expected


def test_normalise_phone_reads_national_numbers_in_the_given_region() -> None:
    assert normalise_phone("070-123 45 67", region="SE") == "+46701234567"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "12345",  # too short
        "+47 1234 5678",  # no Norwegian number starts with 1
        "+47 912 34 5678",  # one digit too many
        "+999 1234567",  # no such country code
    ],
)
def test_normalise_phone_rejects_invalid_numbers(text: str) -> None:
    with pytest.raises(InvalidPhone, match="phone number"):
        normalise_phone(text)


def test_invalid_phone_is_a_value_error_and_does_not_echo_the_number() -> None:
    with pytest.raises(ValueError) as caught:
        normalise_phone("+47 1234 5678")
    assert isinstance(caught.value, InvalidPhone)
    assert "1234 5678" not in str(caught.value)
    assert "678" in str(caught.value)  # enough to find it, not enough to leak it


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+4791234567", "+47•••••567"),
        ("+46701234567", "+46••••••567"),
        ("+4767000001", "+47•••••001"),
    ],
)
def test_mask_phone_keeps_country_code_and_last_three_digits(e164: str, masked: str) -> None:
    assert mask_phone(e164) == masked


KINDS = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)


@pytest.mark.parametrize(
    "e164",
    sorted(
        {
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            for region in phonenumbers.SUPPORTED_REGIONS
            for kind in KINDS
            if (number := phonenumbers.example_number_for_type(region, kind)) is not None
        }
    ),
)  # fmt: skip
def test_mask_phone_splits_e164_where_phonenumbers_does(e164: str) -> None:
    """The unparsed split of every region's example numbers is the parsed one's."""
    number = phonenumbers.parse(e164, None)
    national = phonenumbers.national_significant_number(number)
    hidden = max(len(national) - 3, 0)
    assert mask_phone(e164) == f"+{number.country_code}{'•' * hidden}{national[hidden:]}"


@pytest.mark.parametrize(
    ("text", "masked"),
    [("91234567", "•••••567"), ("not a number", "•••••••••ber"), ("12", "12"), ("", "")],
)
def test_mask_phone_never_raises_and_hides_all_but_the_tail(text: str, masked: str) -> None:
    assert mask_phone(text) == masked


def test_e164_or_none_helps_inbound_events_with_odd_numbers() -> None:
    assert e164_or_none("912 34 567") == "+4791234567"
    assert e164_or_none("anonymous") is None
    assert e164_or_none("+266696687") is None


@pytest.mark.parametrize(
    ("e164", "readable"),
    [
        ("+4767000001", "67 00 00 01"),  # a Norwegian number as Norwegians write it
        ("+4791234567", "91 23 45 67"),
        ("+46701234567", "+46 70 123 45 67"),  # abroad: with the country code
        ("anonymous", "anonymous"),  # not a number: as it is
        ("", ""),
    ],
)
def test_readable_phone(e164: str, readable: str) -> None:
    assert readable_phone(e164) == readable
