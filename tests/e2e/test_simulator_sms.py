"""`helpline simulate sms` against a real `helpline serve` (sandbox mode, embedded stores,
the demo organisation): what the sender and the staff on duty receive.

The service runs on the real clock, so who is on duty is not known here: the notified
number must be one of the demo's staff phones, and the staff answer goes from that number.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

from helpline import access_log
from helpline.bootstrap import open_services
from helpline.cli import build_parser
from helpline.commands.common import CommandError
from helpline.settings import Settings
from tests.e2e.served import Served, served

pytestmark = pytest.mark.e2e

HANSEN, ASKER_LINE = "+4798765432", "+4767000001"
#: Every phone in the demo organisation that may be first in Asker's chain.
DEMO_STAFF = {
    "+4792000000", "+4791234567", "+4791234568", "+4741234501", "+4793345012",
    "+4745678123", "+4790876543", "+4795512340", "+4748123456", "+4797001122",
    "+4746600789",
}  # fmt: skip
NOTIFIED = re.compile(r"(\+47\d{8}) receives an SMS from \+4767000001 \(notify, sandbox\):")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served(tmp_path_factory.mktemp("simulate-sms")) as running:
        yield running


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["simulate", "sms", *argv])


async def simulate(settings: Settings, *argv: str) -> int:
    args = parse(*argv)
    code: int = await args.handler(settings, args)
    return code


async def test_a_text_gets_a_receipt_and_the_answer_of_the_staff_on_duty(
    service: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    await service.ready()
    assert await simulate(service.settings, "--from", "987 65 432", "Hei, kan noen ringe oss?") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        f"simulating an SMS to the service at {service.url} "
        f"(signed for {service.url} with the sandbox token)",
        f"sms from {HANSEN} to {ASKER_LINE}:",
        "    Hei, kan noen ringe oss?",
    ]
    receipt = lines.index(
        f"{HANSEN} (the sender) receives an SMS from {ASKER_LINE} (receipt, sandbox):"
    )
    assert lines[receipt + 1].startswith(
        "    Takk, meldingen din er mottatt hos Fosterhjemstelefonen. "
    )
    notified = [(i, m[1]) for i, line in enumerate(lines) if (m := NOTIFIED.fullmatch(line))]
    assert len(notified) == 1, lines
    at, staff = notified[0]
    assert staff in DEMO_STAFF
    heading = re.fullmatch(
        r"    Fosterhjemstelefonen #(K\d+): Ny melding fra Familien Hansen \(Asker\):",
        lines[at + 1],
    )
    assert heading is not None, lines[at + 1]
    assert lines[at + 2] == "    «Hei, kan noen ringe oss?»"
    assert lines[-1] == "2 message(s) sent back out"

    code = heading[1]
    answer = f"#{code} Vi ringer deg om fem minutter."
    assert await simulate(service.settings, "--from", staff, answer) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:3] == [f"sms from {staff} to {ASKER_LINE}:", f"    {answer}"]
    reply = lines.index(f"{HANSEN} receives an SMS from {ASKER_LINE} (reply, sandbox):")
    assert lines[reply + 1].endswith("Fosterhjemstelefonen: Vi ringer deg om fem minutter.")
    assert not any(line.startswith(f"{HANSEN} (the sender)") for line in lines)
    async with open_services(service.settings, with_redis=False) as services:
        async with services.sessions() as session:
            reads = await access_log.entries(session)
    assert [(e.source, e.action) for e in reads] == [("cli", "outbox.list")] * 2


async def test_a_text_signed_for_another_url_is_refused_and_nothing_is_sent(
    service: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    await service.ready()
    elsewhere = Settings.from_mapping(
        {**service.env, "HELPLINE_PUBLIC_URL": "http://helpline.test"}
    )
    assert await simulate(elsewhere, "--from", HANSEN, "--url", service.url, "Hei") == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[3] == (
        "APPLICATION ERROR: POST http://helpline.test/twilio/sms answered HTTP 403: "
        "invalid Twilio signature"
    )
    assert lines[-1] == "0 message(s) sent back out"
    assert "APPLICATION-ERROR: POST http://helpline.test/twilio/sms" in captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "12345", "Hei"], "--from: not a valid phone number"),
        (["--from", HANSEN, "--to", "hello", "Hei"], "--to: not a phone number"),
    ],
)
async def test_bad_numbers_are_refused(service: Served, argv: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        await simulate(service.settings, *argv)
