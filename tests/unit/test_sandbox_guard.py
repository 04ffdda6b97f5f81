"""Sandbox mode (webhooks signed with the public word `sandbox`) only on loopback."""

from __future__ import annotations

import pytest

from helpline.commands.run import sandbox_refusal
from helpline.settings import Settings

CREDENTIALS = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "f" * 32}


@pytest.mark.parametrize(
    ("public_url", "extra", "refused"),
    [
        ("http://127.0.0.1:8080", {}, False),
        ("http://127.8.9.10", {}, False),
        ("http://localhost:8080", {}, False),
        ("http://[::1]:8080", {}, False),
        ("https://127.0.0.1", {}, True),
        ("https://localhost", {}, True),
        ("http://hjelp.example.no", {}, True),
        ("https://hjelp.example.no", {}, True),
        ("http://10.0.0.5:8080", {}, True),
        ("http://0.0.0.0:8080", {}, True),
        ("http://localhost.example.no", {}, True),
        ("https://hjelp.example.no", {"HELPLINE_SANDBOX": "1"}, False),
        ("http://10.0.0.5:8080", {"HELPLINE_SANDBOX": "1"}, False),
        ("https://hjelp.example.no", CREDENTIALS, False),
        ("https://hjelp.example.no", {"HELPLINE_SANDBOX": "0"}, True),
    ],
)
def test_sandbox_is_refused_on_a_public_address(
    public_url: str, extra: dict[str, str], refused: bool
) -> None:
    settings = Settings.from_mapping({"HELPLINE_PUBLIC_URL": public_url, **extra})
    refusal = sandbox_refusal(settings)
    assert (refusal is not None) == refused
    if refusal is not None:
        assert public_url in refusal and "HELPLINE_SANDBOX=1" in refusal
