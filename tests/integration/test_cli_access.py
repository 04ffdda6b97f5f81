"""`token create|list|revoke` and the access log of command-line reads."""

from __future__ import annotations

import asyncio
import getpass
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Connection, Engine

from helpline.bootstrap import open_services
from helpline.cli import main
from helpline.db.models import AccessLogRow, ApiTokenRow
from helpline.settings import Settings
from tests.integration.cli_support import empty_stores, point_cli_at, run

pytestmark = pytest.mark.integration

CLI_ACTOR = f"cli:{getpass.getuser()}"


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """An empty register, and the environment pointing the command line at it."""
    asyncio.run(empty_stores(settings))
    point_cli_at(settings, monkeypatch, tmp_path)
    return settings


def rows(settings: Settings, model: Any) -> list[Any]:
    async def read() -> list[Any]:
        async with open_services(settings, with_redis=False) as services:
            async with services.sessions() as session:
                return list(await session.scalars(select(model).order_by(model.id)))

    return asyncio.run(read())


KARI_ASKER = ("--person", "kari", "--role", "koordinator", "--kommune", "asker")


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (("asker-kari", "--person", "nobody", "--role", "admin"),
         "unknown person 'nobody': not in the loaded register"),
        (("asker-kari", "--person", "kari", "--role", "koordinator"),
         "a koordinator token needs one or more --kommune ID"),
        (("asker-kari", *KARI_ASKER, "--kommune", "oslo"),
         "unknown kommune 'oslo': expected one of asker, baerum"),
        (("asker-kari", "--person", "kari", "--role", "admin", "--kommune", "asker"),
         "an admin token reads every kommune: give no --kommune"),
        (("asker-kari", *KARI_ASKER, "--expires-in", "366d"),
         "--expires-in: must be from 1d to 365d, got '366d'"),
        (("asker-kari", *KARI_ASKER, "--expires-in", "soon"),
         "--expires-in: expected days or weeks, e.g. 90d or 12w, got 'soon'"),
        (("asker kari", *KARI_ASKER), "invalid token name 'asker kari'"),
        (("7", *KARI_ASKER), "invalid token name '7'"),
    ],
)  # fmt: skip
def test_token_create_refuses_clearly_and_stores_nothing(
    cli: Settings, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], error: str
) -> None:
    run(capsys, "demo")
    code, out, err = run(capsys, "token", "create", *argv)
    assert code == 2 and out == "" and err.startswith(f"error: {error}")
    assert rows(cli, ApiTokenRow) == []


def test_token_create_needs_a_loaded_register(
    cli: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "token", "create", "asker-kari", *KARI_ASKER)
    assert code == 2 and "no organisation is loaded" in err
    assert rows(cli, ApiTokenRow) == []


def test_token_names_are_unique_for_good(cli: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "demo")
    assert run(capsys, "token", "create", "asker-kari", *KARI_ASKER)[0] == 0
    assert run(capsys, "token", "revoke", "asker-kari")[0] == 0
    code, _, err = run(capsys, "token", "create", "asker-kari", *KARI_ASKER)
    assert code == 2 and "a token named 'asker-kari' exists already" in err
    assert len(rows(cli, ApiTokenRow)) == 1


def test_token_list_shows_scope_and_expiry_and_never_the_token(
    cli: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "demo")
    _, first, _ = run(capsys, "token", "create", "asker-kari", *KARI_ASKER, "--kommune", "baerum")
    ola_admin = ("--person", "ola", "--role", "admin", "--expires-in", "2w")
    _, second, _ = run(capsys, "token", "create", "root-ola", *ola_admin)
    code, out, _ = run(capsys, "token", "list", "--json")
    assert code == 0
    tokens = json.loads(out)["tokens"]
    assert [(t["name"], t["person"], t["role"], t["kommuner"]) for t in tokens] == [
        ("asker-kari", "kari", "koordinator", ["asker", "baerum"]),
        ("root-ola", "ola", "admin", None),
    ]
    lifetimes = [
        datetime.fromisoformat(t["expires_at"]) - datetime.fromisoformat(t["created_at"])
        for t in tokens
    ]
    assert lifetimes == [timedelta(days=90), timedelta(weeks=2)]
    assert all(t["revoked_at"] is None and t["last_used_at"] is None for t in tokens)
    code, table, _ = run(capsys, "token", "list")
    assert code == 0 and "asker,baerum" in table and "all" in table
    hashes = [row.token_hash for row in rows(cli, ApiTokenRow)]
    for secret in [first.strip(), second.strip(), *hashes]:
        assert secret not in out and secret not in table


def test_token_revoke_by_id_or_name(cli: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "demo")
    run(capsys, "token", "create", "asker-kari", *KARI_ASKER)
    run(capsys, "token", "create", "asker-ola", "--person", "ola", "--role", "admin")
    first, _ = rows(cli, ApiTokenRow)
    code, out, _ = run(capsys, "token", "revoke", str(first.id))
    assert code == 0 and out == f"revoked token {first.id} 'asker-kari'\n"
    code, out, _ = run(capsys, "token", "revoke", "asker-ola")
    assert code == 0 and "revoked token" in out
    code, out, _ = run(capsys, "token", "revoke", "asker-ola")
    assert code == 0 and "was revoked already" in out
    assert all(row.revoked_at is not None for row in rows(cli, ApiTokenRow))
    for unknown in ["nobody", "999", "99999999999999999999"]:
        code, _, err = run(capsys, "token", "revoke", unknown)
        assert code == 2 and f"no API token '{unknown}'" in err


def test_command_line_reads_are_recorded_and_the_log_can_be_reviewed(
    cli: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "demo")
    assert run(capsys, "contacts", "--kommune", "asker", "--json")[0] == 0
    assert run(capsys, "contacts", "--since", "2026-11-01")[0] == 0
    assert run(capsys, "outbox", "--limit", "5")[0] == 0
    code, out, _ = run(capsys, "access-log", "--json")
    assert code == 0
    entries = json.loads(out)["access_log"]
    assert [(e["actor"], e["source"], e["action"], e["target"], e["client"]) for e in entries] == [
        (CLI_ACTOR, "cli", "outbox.list", "limit=5", socket.gethostname()),
        (CLI_ACTOR, "cli", "contacts.list", "since=2026-10-31T23:00:00Z&limit=50",
         socket.gethostname()),
        (CLI_ACTOR, "cli", "contacts.list", "kommune=asker&limit=50", socket.gethostname()),
    ]  # fmt: skip
    assert set(entries[0]) == {"at", "actor", "source", "action", "target", "client"}
    code, table, _ = run(capsys, "access-log", "--since", "2026-11-01")
    assert code == 0 and "access_log.read" in table and "outbox.list" in table
    code, out, _ = run(capsys, "access-log", "--since", "2999-01-01")
    assert code == 0 and "the access log is empty since 2999-01-01" in out
    actions = [(r.action, r.target) for r in rows(cli, AccessLogRow)]
    assert actions[-3:] == [
        ("access_log.read", "limit=100"),
        ("access_log.read", "since=2026-11-01&limit=100"),
        ("access_log.read", "since=2999-01-01&limit=100"),
    ]


class AccessLogBroken(Exception):
    pass


@contextmanager
def access_log_broken() -> Iterator[None]:
    """Every engine refuses writes to the access log (a full disk, a revoked grant)."""

    def refuse(_conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ACCESS_LOG"):
            raise AccessLogBroken

    event.listen(Engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", refuse)


@pytest.mark.parametrize("argv", [("contacts", "--json"), ("outbox", "--json"), ("access-log",)])
def test_nothing_is_shown_when_the_read_cannot_be_recorded(
    cli: Settings, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    run(capsys, "demo")
    run(capsys, "link", "telegram", "--foster-home", "hansen")  # something in the outbox
    capsys.readouterr()
    with access_log_broken(), pytest.raises(AccessLogBroken):
        main(list(argv))
    assert capsys.readouterr().out == ""
    assert rows(cli, AccessLogRow) == []
