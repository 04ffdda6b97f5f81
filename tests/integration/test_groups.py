"""Groups on a real database: mutes and the network's other state outlive reloads, and the
`group` commands."""

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from helpline.bootstrap import Services, open_services
from helpline.commands.org import demo_text, load_text
from helpline.db import models as m
from helpline.groups import is_muted, mute, unmute
from helpline.settings import Settings
from tests.integration.cli_support import point_cli_at, run

pytestmark = pytest.mark.integration

FAMILY = "asker-rf-nilsen"
_T = TypeVar("_T", bound=m.Base)


async def test_a_mute_is_kept_once_and_outlives_reloads(services: Services) -> None:
    await load_text(services, demo_text())
    first = services.clock()
    async with services.sessions() as session, session.begin():
        assert await mute(session, FAMILY, "hansen", first, "cli")
        assert not await mute(session, FAMILY, "hansen", first + timedelta(hours=1), "kari")
        assert await is_muted(session, FAMILY, "hansen")
        assert not await is_muted(session, FAMILY, "johansen")
        assert not await is_muted(session, "baerum-nettverk", "hansen")
    assert await load_text(services, demo_text()) == 2
    async with services.sessions() as session, session.begin():
        row = await session.get(m.GroupMuteRow, (FAMILY, "hansen"))
        assert row is not None and (row.muted_at, row.muted_by) == (first, "cli")
        assert await unmute(session, FAMILY, "hansen")
        assert not await unmute(session, FAMILY, "hansen")
        assert not await is_muted(session, FAMILY, "hansen")


async def test_the_networks_state_outlives_reloads_and_the_register_is_replaced(
    services: Services,
) -> None:
    await load_text(services, demo_text())
    now = services.clock()
    async with services.sessions() as session, session.begin():
        session.add_all(
            [
                m.GroupMuteRow(group_id=FAMILY, foster_home_id="haugen", muted_at=now),
                m.OptOutRow(
                    channel="sms",
                    address="+4798765432",
                    scope=f"group:{FAMILY}",
                    source="keyword",
                    created_at=now,
                ),
                m.GroupMessageRow(
                    group_id=FAMILY,
                    foster_home_id="hansen",
                    channel="sms",
                    body="Hei alle",
                    created_at=now,
                ),
                m.BroadcastRow(
                    created_at=now,
                    created_by="cli",
                    audience="kommune:asker",
                    body="Nettverkstreff",
                    send_at=now,
                    status="scheduled",
                ),
            ]
        )
    without_groups = demo_text().split("# --- The network")[0]
    assert await load_text(services, without_groups) == 2
    network_tables = (
        m.GroupMuteRow,
        m.OptOutRow,
        m.GroupMessageRow,
        m.BroadcastRow,
        m.GroupRow,
        m.GroupMemberRow,
        m.GroupStaffRow,
    )
    async with services.sessions() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(table))
            for table in network_tables
        ]
        message = await session.scalar(select(m.GroupMessageRow))
        broadcast = await session.scalar(select(m.BroadcastRow))
    assert counts == [1, 1, 1, 1, 0, 0, 0]
    assert message is not None and (message.relayed, message.muted) == (False, False)
    assert broadcast is not None and broadcast.kind == "broadcast"


async def test_an_opt_out_is_unique_per_channel_address_and_scope(services: Services) -> None:
    now = services.clock()

    def opt_out(scope: str) -> m.OptOutRow:
        return m.OptOutRow(
            channel="sms", address="+4798765432", scope=scope, source="keyword", created_at=now
        )

    async with services.sessions() as session, session.begin():
        session.add_all([opt_out("network"), opt_out(f"group:{FAMILY}")])
    with pytest.raises(IntegrityError):
        async with services.sessions() as session, session.begin():
            session.add(opt_out("network"))


# --- the command line ---------------------------------------------------------------------


async def _demo(settings: Settings) -> None:
    async with open_services(settings, with_redis=False) as services:
        async with services.engine.begin() as connection:
            for table in reversed(m.Base.metadata.sorted_tables):
                await connection.execute(table.delete())
        await load_text(services, demo_text())


async def _mutes(settings: Settings) -> list[tuple[str, str]]:
    async with open_services(settings, with_redis=False) as services:
        async with services.sessions() as session:
            rows = await session.scalars(select(m.GroupMuteRow))
            return sorted((row.group_id, row.foster_home_id) for row in rows)


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """The demo loaded, and the environment pointing the command line at it."""
    asyncio.run(_demo(settings))
    point_cli_at(settings, monkeypatch, tmp_path)
    return settings


def test_group_list_as_json_and_as_a_table(
    cli: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "group", "list", "--json")
    assert code == 0
    assert json.loads(out) == {
        "network_number": "+4767000090",
        "groups": [
            {
                "id": FAMILY,
                "name": "Ressursfamilien Nilsen",
                "kind": "ressursfamilie",
                "kommune": "asker",
                "hub": "nilsen",
                "member_count": 3,
                "number": "+4767000091",
            },
            {
                "id": "baerum-nettverk",
                "name": "Fosterhjemsnettverket i Bærum",
                "kind": "nettverk",
                "kommune": "baerum",
                "hub": None,
                "member_count": 3,
                "number": None,
            },
        ],
    }
    code, out, _ = run(capsys, "group", "list")
    header, family, network, footer = out.splitlines()
    columns = ["ID", "NAME", "KIND", "KOMMUNE", "HUB", "MEMBERS", "NUMBER"]
    assert code == 0 and header.split() == columns
    assert family.split() == [
        FAMILY,
        "Ressursfamilien",
        "Nilsen",
        "ressursfamilie",
        "asker",
        "nilsen",
        "3",
        "+4767000091",
    ]
    assert network.split()[-4:] == ["baerum", "-", "3", "-"]
    assert footer == "network number (groups without their own): +4767000090"


def test_group_mute_and_unmute_are_idempotent(
    cli: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    muted = (
        f"muted foster home 'hansen' in group '{FAMILY}': their messages are stored and"
        " not relayed\n"
    )
    assert run(capsys, "group", "mute", FAMILY, "hansen") == (0, muted, "")
    code, out, _ = run(capsys, "group", "mute", FAMILY, "hansen")
    assert (code, out) == (0, f"foster home 'hansen' in group '{FAMILY}' was already muted\n")
    assert run(capsys, "group", "mute", FAMILY, "nilsen")[0] == 0  # the hub, too
    assert asyncio.run(_mutes(cli)) == [(FAMILY, "hansen"), (FAMILY, "nilsen")]
    code, out, _ = run(capsys, "group", "unmute", FAMILY, "hansen")
    assert (code, out) == (0, f"unmuted foster home 'hansen' in group '{FAMILY}'\n")
    code, out, _ = run(capsys, "group", "unmute", FAMILY, "hansen")
    assert (code, out) == (0, f"foster home 'hansen' in group '{FAMILY}' was not muted\n")
    assert asyncio.run(_mutes(cli)) == [(FAMILY, "nilsen")]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["mute", "asker-rf-nilson", "hansen"],
         "unknown group 'asker-rf-nilson' (did you mean 'asker-rf-nilsen'?)"),
        (["mute", FAMILY, "hanssen"], "unknown foster home 'hanssen' (did you mean 'hansen'?)"),
        (["mute", FAMILY, "olsen"], f"foster home 'olsen' is not in group '{FAMILY}' (its"
         " homes: nilsen, hansen, johansen, haugen)"),
        (["unmute", "baerum-nettverk", "hansen"],
         "foster home 'hansen' is not in group 'baerum-nettverk'"),
    ],
)  # fmt: skip
def test_group_mute_refuses_what_is_not_a_member_and_changes_nothing(
    cli: Settings, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "group", *argv)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {message}")
    assert asyncio.run(_mutes(cli)) == []


def test_group_commands_need_a_loaded_organisation(
    cli: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async def empty() -> None:
        async with open_services(cli, with_redis=False) as services:
            async with services.engine.begin() as connection:
                for table in reversed(m.Base.metadata.sorted_tables):
                    await connection.execute(table.delete())

    asyncio.run(empty())
    code, _, err = run(capsys, "group", "mute", FAMILY, "hansen")
    assert code == 2 and "no organisation is loaded" in err


async def _rows(settings: Settings, table: type[_T]) -> list[_T]:
    async with open_services(settings, with_redis=False) as services:
        async with services.sessions() as session:
            return list(await session.scalars(select(table)))


async def _write(settings: Settings, body: str, *, muted: bool = False) -> None:
    async with open_services(settings, with_redis=False) as services:
        async with services.sessions() as session, session.begin():
            session.add(
                m.GroupMessageRow(
                    group_id=FAMILY,
                    foster_home_id="hansen",
                    channel="sms",
                    body=body,
                    created_at=services.clock(),
                    relayed=not muted,
                    muted=muted,
                )
            )


def test_group_messages_are_shown_to_the_operator_and_every_read_is_audited(
    cli: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_write(cli, "Hei alle"))
    asyncio.run(_write(cli, "Dette blir ikke sendt", muted=True))
    code, out, _ = run(capsys, "group", "messages", FAMILY, "--json")
    assert code == 0
    shown = json.loads(out)["messages"]
    assert [(s["from"], s["body"], s["muted"]) for s in shown] == [
        ("Familien Hansen", "Dette blir ikke sendt", True),
        ("Familien Hansen", "Hei alle", False),
    ]
    code, out, _ = run(capsys, "group", "messages", "baerum-nettverk")
    assert (code, out) == (0, "no messages in group 'baerum-nettverk'\n")
    log = asyncio.run(_rows(cli, m.AccessLogRow))
    assert [(r.action, r.target) for r in log] == [
        ("group.messages", f"group:{FAMILY} limit=50"),
        ("group.messages", "group:baerum-nettverk limit=50"),
    ]
    code, _, err = run(capsys, "group", "messages", "asker-rf-nilson")
    assert code == 2 and "unknown group 'asker-rf-nilson'" in err
    assert len(asyncio.run(_rows(cli, m.AccessLogRow))) == 2  # a refused read: none


def test_demo_twice_welcomes_each_member_once(
    cli: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "demo")
    assert code == 0 and "welcomed 7 new group members" in out  # 4 + 3 foster homes
    code, out, _ = run(capsys, "demo")
    assert code == 0 and "welcomed" not in out
    welcomed = asyncio.run(_rows(cli, m.GroupWelcomeRow))
    assert len(welcomed) == 7
    rows = [r for r in asyncio.run(_rows(cli, m.OutboxRow)) if r.kind == "welcome"]
    assert len(rows) == 10  # Hansen, Haugen and Larsen have two phones each
