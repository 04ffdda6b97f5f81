"""Versions of the organisation on the command line: `dump` writes `version = N`, and
`load` of a file dumped from an older version refuses without `--force`, listing what
changed since, so a file never silently overwrites a console edit."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from helpline.bootstrap import open_services
from helpline.overrides import add_override
from helpline.settings import Settings
from tests.integration.cli_support import empty_stores, point_cli_at, run

pytestmark = pytest.mark.integration

OVERRIDE = {
    "team": "asker-bvt",
    "person": "kari",
    "from": "2026-12-01T08:00",
    "to": "2026-12-03T08:00",
}


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    asyncio.run(empty_stores(settings))
    point_cli_at(settings, monkeypatch, tmp_path)
    return tmp_path


def console_edit(settings: Settings) -> int:
    """An override made in the console (the same call the Vaktplan makes)."""

    async def edit() -> int:
        async with open_services(settings) as services:
            loaded = await services.organisation()
            assert loaded is not None
            return await add_override(services, loaded, OVERRIDE, "kari")

    return asyncio.run(edit())


def oncall_primary(capsys: pytest.CaptureFixture[str], at: str) -> str:
    code, out, _ = run(capsys, "oncall", "--kommune", "asker", "--at", at, "--json")
    assert code == 0
    person: str = json.loads(out)["chain"][0]["person"]
    return person


def test_dump_writes_the_version_and_loading_it_back_is_the_next(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "demo")[0] == 0
    code, out, _ = run(capsys, "dump", "-o", "org.toml")
    assert code == 0
    text = (cli / "org.toml").read_text(encoding="utf-8")
    assert "\nversion = 1\n" in text
    code, out, _ = run(capsys, "load", "org.toml")
    assert code == 0 and "(version 2)" in out
    assert run(capsys, "dump", "-o", "again.toml")[0] == 0
    again = (cli / "again.toml").read_text(encoding="utf-8")
    assert again == text.replace("version = 1", "version = 2")


def test_a_file_from_before_a_console_edit_is_refused_with_what_changed(
    cli: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "demo")
    run(capsys, "dump", "-o", "org.toml")
    assert oncall_primary(capsys, "2026-12-02T10:00") == "ingrid"
    assert console_edit(settings) == 2
    assert oncall_primary(capsys, "2026-12-02T10:00") == "kari"  # live at once
    code, out, err = run(capsys, "load", "org.toml")
    assert code == 2 and out == ""
    assert "org.toml not loaded, nothing changed" in err
    assert "the file is based on version 1; the register is at version 2." in err
    assert "version 2 (console, kari, " in err
    assert "override added: kari in asker-bvt 2026-12-01T08:00..2026-12-03T08:00" in err
    assert "Entries changed since version 1:" in err
    assert "  override asker-bvt/kari 2026-12-01T08:00..2026-12-03T08:00: added" in err
    assert "--force" in err
    # Nothing changed: the override is still the register's, at version 2.
    assert "version = 2" in run(capsys, "dump")[1]
    assert oncall_primary(capsys, "2026-12-02T10:00") == "kari"
    # Forced, the file wins and the override is gone.
    code, out, _ = run(capsys, "load", "--force", "org.toml")
    assert code == 0 and "(version 3)" in out
    assert oncall_primary(capsys, "2026-12-02T10:00") == "ingrid"


def test_a_fresh_dump_after_the_edit_loads(
    cli: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "demo")
    console_edit(settings)
    run(capsys, "dump", "-o", "org.toml")
    code, out, _ = run(capsys, "load", "org.toml")
    assert code == 0 and "(version 3)" in out
    assert oncall_primary(capsys, "2026-12-02T10:00") == "kari"


def test_a_file_without_a_version_does_not_overwrite_console_edits(
    cli: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "demo")
    assert run(capsys, "demo")[0] == 0  # files alone: each load replaces the last
    console_edit(settings)
    code, _, err = run(capsys, "demo")
    assert code == 2 and "based on version 2; the register is at version 3" in err
    assert "override asker-bvt/kari" in err
    code, out, _ = run(capsys, "demo", "--force")
    assert code == 0 and "(version 4)" in out


def test_a_version_from_elsewhere_or_malformed_is_refused(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "demo")
    run(capsys, "dump", "-o", "org.toml")
    text = (cli / "org.toml").read_text(encoding="utf-8")
    (cli / "future.toml").write_text(text.replace("version = 1", "version = 9"), encoding="utf-8")
    code, _, err = run(capsys, "load", "future.toml")
    assert code == 2 and "dumped from version 9, but the register is at version 1" in err
    (cli / "bad.toml").write_text(text.replace("version = 1", 'version = "1"'), encoding="utf-8")
    code, _, err = run(capsys, "load", "bad.toml")
    assert code == 2
    assert "file: field 'version': expected the register version the file was dumped from" in err
    assert "version = 1" in run(capsys, "dump")[1]
