"""`helpline event ...` on a real database and Redis (sandbox mode): the flags, errors that
change nothing, and the JSON shape of `event show --json`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from helpline.commands.events import _people
from helpline.settings import Settings
from rota.wallclock import OSLO, zone
from tests.integration.cli_support import run
from tests.integration.test_broadcast_cli import cli

__all__ = ["cli"]
pytestmark = pytest.mark.integration

SHAPE = {"id", "kind", "title", "starts", "ends", "place", "capacity", "invited", "yes", "no",
         "waitlist", "no_answer", "people_yes", "attended", "answers"}  # fmt: skip


def next_week() -> str:
    day = (datetime.now(UTC) + timedelta(days=7)).astimezone(zone(OSLO)).date()
    return day.isoformat()


def test_create_invite_show_list_change_cancel(
    cli: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    day = next_week()
    code, out, err = run(
        capsys, "event", "create", "--kind", "nettverkstreff", "--title", "Nettverkstreff",
        "--starts", f"{day}T18:00", "--ends", f"{day}T20:00", "--place", "Asker kulturhus",
        "--capacity", "2", "--audience", "kommune:asker", "--json",
    )  # fmt: skip
    assert (code, err) == (0, "")
    event_id = json.loads(out)["id"]
    code, out, _ = run(capsys, "event", "invite", str(event_id), "--json")
    assert (code, json.loads(out)["invited"]) == (0, 4)
    code, out, _ = run(capsys, "event", "invite", str(event_id))
    assert out == f"event {event_id}: 0 foster homes invited now\n"
    code, out, _ = run(capsys, "event", "show", str(event_id), "--json")
    shown = json.loads(out)
    assert SHAPE <= set(shown)
    assert (shown["invited"], shown["no_answer"], shown["capacity"]) == (4, 4, 2)
    assert shown["starts"].startswith(f"{day}T18:00:00+0")
    code, out, _ = run(capsys, "event", "show", str(event_id))
    assert "yes 0 (0 people), no 0" in out
    assert (_people(1), _people(3)) == ("1 person", "3 people")
    code, out, _ = run(capsys, "event", "list", "--json")
    assert [e["id"] for e in json.loads(out)["events"]] == [event_id]
    code, out, _ = run(capsys, "event", "change", str(event_id), "--place", "Asker rådhus")
    assert code == 0
    code, out, _ = run(capsys, "event", "attendance", str(event_id), "--present", "ukjent")
    assert code == 2
    code, out, _ = run(capsys, "event", "cancel", str(event_id), "--reason", "Sykdom.")
    assert (code, out) == (0, f"event {event_id} cancelled; 4 foster homes told\n")
    code, _, err = run(capsys, "event", "cancel", str(event_id))
    assert code == 2 and "cancelled already" in err
    code, out, _ = run(capsys, "event", "show", str(event_id), "--json")
    assert json.loads(out)["status"] == "cancelled"


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (["--starts", "2020-01-01T18:00", "--ends", "2020-01-01T20:00"], "starts: must be"),
        (["--starts", "{day}T20:00", "--ends", "{day}T18:00"], "ends: must be after starts"),
        (["--starts", "{day}T18:00", "--ends", "{day}T20:00", "--capacity", "0"], "capacity"),
        (["--starts", "{day}T18:00", "--ends", "{day}T20:00", "--audience", "home:nobody"],
         "no home:nobody"),
        (["--starts", "tomorrow", "--ends", "{day}T20:00"], "--starts: not an ISO 8601"),
    ],
)  # fmt: skip
def test_bad_events_are_refused_and_store_nothing(
    cli: Settings, capsys: pytest.CaptureFixture[str], flags: list[str], error: str
) -> None:
    day = next_week()
    argv = [f.replace("{day}", day) for f in flags]
    code, _, err = run(
        capsys, "event", "create", "--kind", "fagdag", "--title", "Fagdag", "--place", "Sal",
        *argv,
    )  # fmt: skip
    assert code == 2 and error in err
    code, out, _ = run(capsys, "event", "list", "--json")
    assert json.loads(out) == {"events": []}
