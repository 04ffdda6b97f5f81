"""The leak scanner of tests/e2e/test_no_leaks.py finds what it must, and only that."""

from __future__ import annotations

from helpline.commands.org import demo_text
from rota.orgfile import parse_org
from tests.e2e.leak_scan import (
    bodies_forbidden,
    phone_forms,
    register_values,
    scan,
    tokens_forbidden,
)

BOT_TOKEN = "7012345678:AAE-fake_token_for_tests_0123456789ab"


def test_a_number_is_looked_for_in_every_unmasked_form() -> None:
    assert phone_forms("+4798765432") == ["+4798765432", "4798765432", "98765432"]


def test_the_register_gives_numbers_and_foster_home_names() -> None:
    values = register_values(parse_org(demo_text()))
    assert ("foster home name", "Familien Hansen") in {(v.kind, v.text) for v in values}
    phones = {v.text for v in values if v.kind == "phone number"}
    assert {"+4798765432", "98765432", "+4740000000", "+4767000001", "+4792000000"} <= phones


def test_each_leak_is_found_with_its_line_and_kind() -> None:
    forbidden = [
        *register_values(parse_org(demo_text())),
        *bodies_forbidden(["Vi trenger hjelp i kveld.\nKan noen ringe oss tilbake?", "JA"]),
        *tokens_forbidden([BOT_TOKEN]),
    ]
    lines = [
        "INFO httpx: HTTP Request: POST http://x/bot***/sendMessage",  # redacted: fine
        "INFO helpline.outbox: sms 3 to +47•••••432 sent (notify)",  # masked: fine
        "DEBUG telegram.Bot: parameters {'text': 'Kan noen ringe oss tilbake?'}",
        "INFO twilio: POST Request: x?To=%2B4798765432",
        "DEBUG sqlalchemy: Row ('hansen', 'Familien Hansen')",
        "INFO httpx: POST http://x/botAAE-fake_token_for_tests_0123456789ab/getMe",
        "INFO saq: JA",  # a two-letter body is no finding
    ]
    findings = scan("\n".join(lines), forbidden)
    assert [(f.line_number, f.kind) for f in findings] == [
        (3, "message body"),
        (4, "phone number"),
        (5, "foster home name"),
        (6, "token"),
    ]
    assert findings[0].line == "DEBUG telegram.Bot: parameters {'text': '«message body»'}"
    assert "98765432" not in findings[1].line
