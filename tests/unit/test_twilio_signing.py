"""Signing webhooks as Twilio does: Twilio's published example, and what the service checks."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from helpline.twilio_signing import SIGNATURE_HEADER, sign, signed_headers

# The worked example of Twilio's request-validation documentation.
EXAMPLE_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
EXAMPLE_FORM = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
EXAMPLE_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_twilios_published_example_is_reproduced() -> None:
    assert sign(EXAMPLE_URL, EXAMPLE_FORM, "12345") == EXAMPLE_SIGNATURE
    assert signed_headers(EXAMPLE_URL, EXAMPLE_FORM, "12345") == {
        "X-Twilio-Signature": EXAMPLE_SIGNATURE
    }
    assert SIGNATURE_HEADER == "X-Twilio-Signature"


def test_the_signature_covers_token_url_and_every_parameter() -> None:
    validator = RequestValidator("12345")
    signature = sign(EXAMPLE_URL, EXAMPLE_FORM, "12345")
    assert validator.validate(EXAMPLE_URL, EXAMPLE_FORM, signature)
    assert sign(EXAMPLE_URL, EXAMPLE_FORM, "54321") != signature
    assert sign(EXAMPLE_URL + "&baz=3", EXAMPLE_FORM, "12345") != signature
    assert sign(EXAMPLE_URL, {**EXAMPLE_FORM, "Digits": "9999"}, "12345") != signature
    assert sign(EXAMPLE_URL, {}, "12345") != signature  # a GET signs the URL alone
