"""The `helpline` command line against a real database."""

import asyncio
import json
from pathlib import Path

import pytest

from helpline.commands.org import demo_text
from helpline.settings import Settings
from tests.integration.cli_support import empty_stores, point_cli_at, run

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty register, and the environment pointing the command line at it."""
    asyncio.run(empty_stores(settings))
    point_cli_at(settings, monkeypatch, tmp_path)
    return tmp_path


def test_oncall_without_an_organisation_says_what_to_do(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "oncall", "--kommune", "asker")
    assert code == 2
    assert "no organisation is loaded" in err


def test_demo_then_oncall_json(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "demo")[0] == 0
    code, out, _ = run(capsys, "oncall", "--kommune", "asker", "--at", "2026-11-24T03:00", "--json")
    answer = json.loads(out)
    assert code == 0
    assert answer["kommune"] == "asker"
    assert answer["at"] == "2026-11-24T03:00:00+01:00"
    roles = [step["role"] for step in answer["chain"]]
    assert roles[0] == "primary" and roles[-1] == "fallback"
    assert answer["chain"][0]["team"] == "bvv-vest"  # night: the barnevernvakt
    assert set(answer["chain"][0]) == {"role", "team", "person", "name", "phone"}


def test_oncall_table_and_bad_input(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "demo")
    code, out, _ = run(capsys, "oncall", "--kommune", "asker", "--at", "2026-11-24T10:00")
    assert code == 0
    assert out.splitlines()[0].startswith("Asker at 2026-11-24 10:00")
    assert "asker-bvt" in out and "fallback" in out
    code, _, err = run(capsys, "oncall", "--kommune", "oslo")
    assert code == 2 and "unknown kommune 'oslo'" in err
    code, _, err = run(capsys, "oncall", "--kommune", "asker", "--at", "tomorrow")
    assert code == 2 and "not an ISO 8601 date-time" in err


def test_coverage_of_the_demo_has_no_gaps(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "demo")
    code, out, _ = run(capsys, "coverage", "--from", "2026-12-01", "--to", "2027-01-31", "--json")
    assert code == 0
    assert json.loads(out) == {"gaps": []}


def test_coverage_reports_a_gap_with_exit_status_1(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    holey = demo_text().replace('from = "22:00", to = "08:00"', 'from = "23:00", to = "08:00"')
    assert holey != demo_text()
    (cli / "holey.toml").write_text(holey)
    assert run(capsys, "load", "holey.toml")[0] == 0
    code, out, _ = run(
        capsys,
        "coverage",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-01",
        "--kommune",
        "asker",
        "--json",
    )
    assert code == 1
    assert json.loads(out)["gaps"][0] == {
        "kommune": "asker",
        "from": "2026-12-01T22:00:00+01:00",
        "to": "2026-12-01T23:00:00+01:00",
    }
    code, out, _ = run(capsys, "coverage", "--from", "2026-12-01", "--to", "2026-12-01")
    assert code == 1 and "coverage gap(s)" in out


def test_a_broken_file_is_refused_naming_entry_and_field(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "demo")
    (cli / "broken.toml").write_text(demo_text().replace('team = "bvv-vest"', 'team = "bvv"', 1))
    code, _, err = run(capsys, "load", "broken.toml")
    assert code == 2
    assert "nothing changed" in err and "field 'team'" in err and "unknown team 'bvv'" in err
    code, _, err = run(capsys, "load", "missing.toml")
    assert code == 2 and "cannot read missing.toml" in err


def test_dump_load_dump_is_stable(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "demo")
    assert run(capsys, "dump", "-o", "first.toml")[0] == 0
    assert run(capsys, "load", "first.toml")[0] == 0
    code, second, _ = run(capsys, "dump")
    assert code == 0
    # The same file but for the version it was dumped from: the load made version 2.
    first = (cli / "first.toml").read_text()
    assert "\nversion = 1\n" in first
    assert second == first.replace("\nversion = 1\n", "\nversion = 2\n")


def test_calendars_lists_a_feed_per_team_and_person_and_rotate_issues_a_url(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "demo")
    code, out, _ = run(capsys, "calendars", "--json")
    feeds = json.loads(out)["calendars"]
    assert code == 0
    assert {f["kind"] for f in feeds} == {"team", "person"}
    assert all(f["issued_at"] is None and "url" not in f for f in feeds)
    code, out, _ = run(capsys, "calendars", "rotate", "--person", "kari")
    url = out.strip()
    assert code == 0 and url.startswith("http://127.0.0.1:8080/ical/") and url.endswith(".ics")
    code, again, _ = run(capsys, "calendars", "rotate", "--person", "kari")
    assert code == 0 and again.strip() != url
    _, out, _ = run(capsys, "calendars", "--json")
    issued = [f for f in json.loads(out)["calendars"] if f["issued_at"]]
    assert [(f["kind"], f["id"]) for f in issued] == [("person", "kari")]
    code, _, err = run(capsys, "calendars", "rotate", "--team", "nobody")
    assert code == 2 and "no calendar feed for team 'nobody'" in err


def test_link_telegram_prints_a_one_time_link_and_texts_it(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "demo")
    code, out, _ = run(capsys, "link", "telegram", "--foster-home", "hansen")
    url = out.splitlines()[0]
    assert code == 0 and url.startswith("https://t.me/Fosterhjemstelefonen_bot?start=")
    assert "sent by SMS to 2 number(s)" in out
    code, out, _ = run(capsys, "outbox", "--json")
    texts = [t for t in json.loads(out)["outbox"] if t["kind"] != "welcome"]  # demo's welcomes
    assert sorted(t["to"] for t in texts) == ["+4798765432", "+4798765433"]
    assert all(url in t["body"] and t["from"] == "+4767000001" for t in texts)
    code, _, err = run(capsys, "link", "telegram", "--person", "nobody")
    assert code == 2 and "unknown person 'nobody'" in err
    code, _, err = run(capsys, "telegram", "set-webhook")
    assert code == 2 and "TELEGRAM_BOT_TOKEN" in err


def test_load_warns_about_an_oversized_ressursfamilie_and_loads_it(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = demo_text().replace("ressursfamilie_size = 5", "ressursfamilie_size = 2")
    (cli / "big.toml").write_text(big, encoding="utf-8")
    code, out, err = run(capsys, "load", "big.toml")
    assert code == 0 and "loaded big.toml (version 1)" in out and "2 groups" in out
    assert err == (
        "warning: group 'asker-rf-nilsen': field 'members': 3 foster homes are linked to this"
        " ressursfamilie, more than ressursfamilie_size (2)\n"
    )
    code, _, err = run(capsys, "demo")
    assert code == 0 and err == ""
