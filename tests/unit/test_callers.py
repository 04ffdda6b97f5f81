"""Who calls or writes, and whom a new contact reaches: the same for calls and messages."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rota.engine import Rota
from rota.model import ChainEntry, FosterHome, fallback_entry
from routing.callers import (
    Directory,
    Routed,
    conversation_line,
    route_contact,
)
from tests.unit.rota_fixtures import FALLBACK, FALLBACK_PHONE, NAME, ORG, PHONE, utc

HANSEN = FosterHome("hansen", "Familien Hansen", "asker", ("+4798765432",))
BERG = FosterHome("berg", "Familien Berg", "baerum", ("+4798000001",))
WITH_HOMES = replace(ORG, foster_homes=(HANSEN, BERG))
MONDAY_10 = utc(2026, 11, 23, 9, 0)  # 10:00 in Oslo: the kommuner's own teams


def kari_first() -> tuple[ChainEntry, ...]:
    return Rota(WITH_HOMES).on_duty("asker", MONDAY_10)


def route(
    caller: str | None,
    dialled: str | None,
    default: str | None = None,
    home: FosterHome | None = None,
) -> Routed:
    return route_contact(
        Directory(WITH_HOMES), Rota(WITH_HOMES), caller, dialled, default, MONDAY_10, home
    )


def test_the_chain_at_monday_ten_is_asker_bvt_then_the_fallback() -> None:
    chain = kari_first()
    assert [(e.role, e.phone) for e in chain] == [
        ("primary", PHONE["ola"]),
        ("backup", PHONE["per"]),
        ("barnevernvakt", "+4792000000"),
        ("fallback", FALLBACK_PHONE),
    ]
    assert chain[0].name == NAME["ola"]


ROUTES = [
    pytest.param("+4798765432", "+4767000002", None, None, "asker", "hansen",
                 id="a-known-home-belongs-to-its-kommune-whatever-it-dials"),
    pytest.param("+4790000001", "+4767000002", None, None, "baerum", None,
                 id="a-stranger-to-the-dialled-kommune"),
    pytest.param("+4790000001", None, "baerum", None, "baerum", None,
                 id="no-dialled-number-the-default"),
    pytest.param("+4790000001", "+4767999999", None, None, "asker", None,
                 id="an-unknown-line-the-first-kommune"),
    pytest.param("+4790000001", None, None, BERG, "baerum", "berg",
                 id="a-home-the-channel-knows-(telegram)"),
]  # fmt: skip


@pytest.mark.parametrize(("caller", "dialled", "default", "home", "kommune", "found"), ROUTES)
def test_route_contact(
    caller: str,
    dialled: str | None,
    default: str | None,
    home: FosterHome | None,
    kommune: str,
    found: str | None,
) -> None:
    routed = route(caller, dialled, default, home)
    assert routed.kommune is not None and routed.kommune.id == kommune
    assert (routed.foster_home.id if routed.foster_home else None) == found
    assert routed.chain == Rota(WITH_HOMES).on_duty(kommune, MONDAY_10)


def test_without_any_kommune_the_fallback_alone_is_rung() -> None:
    empty = replace(ORG, kommuner=(), coverage=(), foster_homes=())
    routed = route_contact(Directory(empty), Rota(empty), "+4790000001", None, None, MONDAY_10)
    assert routed == Routed(None, None, (FALLBACK,))
    assert fallback_entry(FALLBACK_PHONE) == FALLBACK


def test_a_conversation_speaks_from_the_number_written_to_else_its_kommunes() -> None:
    asker = route("+4798765432", None)
    assert conversation_line(asker, "+4767000002") == "+4767000002"
    assert conversation_line(asker, "") == "+4767000001"  # Telegram: no number written to
    assert conversation_line(Routed(None, None, (FALLBACK,)), "") == ""
