"""Audiences over the demo organisation: parsing, scope, and who they reach on which channel."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from rota.orgfile import parse_org
from routing.access import ADMIN, Scope
from routing.audience import (
    AUDIENCE_PATTERN,
    AudienceError,
    Recipient,
    Target,
    info_sender,
    parse_audience,
    resolve,
    unreachable,
)
from routing.channels import TelegramLink, help_party, parties
from routing.ports import Party
from tests.unit.test_orgfile import demo_text

ORG = parse_org(demo_text())
ASKER_ONLY = Scope("koordinator", frozenset({"asker"}))
HANSEN = ("+4798765432", "+4798765433")


def sms(phone: str, kommune: str | None, who: str) -> Recipient:
    return Recipient("sms", phone, kommune, who)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kommune:asker", (Target("kommune", "asker"),)),
        ("group:asker-rf-nilsen,home:olsen", (Target("group", "asker-rf-nilsen"),
                                              Target("home", "olsen"))),
        ("team:asker-bvt, team:asker-bvt", (Target("team", "asker-bvt"),)),  # once each
    ],
)  # fmt: skip
def test_parse(text: str, expected: tuple[Target, ...]) -> None:
    assert parse_audience(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("asker", "not kind:id"),
        ("kommune:", "not kind:id"),
        ("person:kari", "unknown audience kind 'person'"),
        ("kommune:asker,", "not kind:id"),
        ("kommune:a:b", "not kind:id"),
        (",".join(["home:hansen"] * 51), "at most 50"),
    ],
)
def test_parse_refuses(text: str, message: str) -> None:
    with pytest.raises(AudienceError, match=message):
        parse_audience(text)


@pytest.mark.parametrize(
    "text", ["kommune:asker", "group:g,home:h,team:t", ",".join(["home:h"] * 50)]
)
def test_the_api_pattern_accepts_what_parse_accepts(text: str) -> None:
    assert re.fullmatch(AUDIENCE_PATTERN, text) and parse_audience(text)


@pytest.mark.parametrize("text", ["person:kari", "kommune:", ",".join(["home:h"] * 51)])
def test_the_api_pattern_refuses(text: str) -> None:
    assert not re.fullmatch(AUDIENCE_PATTERN, text)


@pytest.mark.parametrize(
    ("text", "scope", "missing"),
    [
        ("kommune:asker,group:asker-rf-nilsen,home:hansen,team:asker-bvt", ASKER_ONLY, []),
        ("kommune:baerum", ASKER_ONLY, ["kommune:baerum"]),
        ("group:baerum-nettverk", ASKER_ONLY, ["group:baerum-nettverk"]),
        ("home:olsen", ASKER_ONLY, ["home:olsen"]),
        ("team:bvv-vest", ASKER_ONLY, ["team:bvv-vest"]),  # it serves Bærum too
        ("team:bvv-vest,kommune:baerum", ADMIN, []),
        ("kommune:oslo,home:nobody,group:x,team:y", ADMIN,
         ["kommune:oslo", "home:nobody", "group:x", "team:y"]),
    ],
)  # fmt: skip
def test_unknown_and_out_of_scope_targets(text: str, scope: Scope, missing: list[str]) -> None:
    found = unreachable(parse_audience(text), ORG, scope.allows)
    assert [str(t) for t in found] == missing


def test_a_kommune_reaches_each_phone_of_its_foster_homes() -> None:
    assert resolve(parse_audience("kommune:asker"), ORG, {}) == (
        sms(HANSEN[0], "asker", "home:hansen"),
        sms(HANSEN[1], "asker", "home:hansen"),
        sms("+4792345678", "asker", "home:johansen"),
        sms("+4747112233", "asker", "home:haugen"),
        sms("+4790112233", "asker", "home:haugen"),
        sms("+4790554433", "asker", "home:nilsen"),
    )


def test_linked_homes_and_people_are_reached_on_telegram_blocked_ones_by_sms() -> None:
    links = {
        ("foster_home", "hansen"): TelegramLink(111),
        ("foster_home", "nilsen"): TelegramLink(222, blocked=True),
        ("person", "kari"): TelegramLink(333),
    }
    found = resolve(parse_audience("group:asker-rf-nilsen,team:asker-bvt"), ORG, links)
    assert found == (
        sms("+4790554433", "asker", "home:nilsen"),  # the hub first; its link is blocked
        Recipient("telegram", "111", "asker", "home:hansen"),
        sms("+4792345678", "asker", "home:johansen"),
        sms("+4747112233", "asker", "home:haugen"),
        sms("+4790112233", "asker", "home:haugen"),
        Recipient("telegram", "333", "asker", "person:kari"),
        sms("+4791234568", "asker", "person:ola"),
        sms("+4741234501", "asker", "person:ingrid"),
    )


def test_everyone_is_reached_once() -> None:
    text = "kommune:asker,group:asker-rf-nilsen,home:hansen,home:hansen,team:bvv-vest,team:bvv-vest"
    found = resolve(parse_audience(text), ORG, {})
    assert len(found) == len({(r.channel, r.address) for r in found}) == 6 + 4
    # A phone two foster homes share reaches them once, as the first home named.
    shared = replace(
        ORG,
        foster_homes=tuple(
            replace(h, phones=("+4798765432",)) if h.id == "johansen" else h
            for h in ORG.foster_homes
        ),
    )
    once = resolve(parse_audience("home:hansen,home:johansen"), shared, {})
    assert once == (sms(HANSEN[0], "asker", "home:hansen"), sms(HANSEN[1], "asker", "home:hansen"))


def test_info_goes_from_the_network_number_else_the_kommunes_line() -> None:
    assert info_sender(ORG, "baerum") == "+4767000090"
    without = replace(ORG, helpline=replace(ORG.helpline, network_number=None))
    assert info_sender(without, "baerum") == "+4767000002"
    assert info_sender(without, None) == "+4767000001"
    assert info_sender(replace(without, kommuner=()), None) is None


def test_help_falls_back_to_sms_when_the_bot_is_blocked() -> None:
    assert help_party("+4798765432", None) == Party("sms", "+4798765432")
    assert help_party("+4798765432", TelegramLink(111)) == Party("telegram", "111")
    assert help_party("+4798765432", TelegramLink(111, blocked=True)) == Party("sms", "+4798765432")
    assert parties(HANSEN + HANSEN[:1], None) == (Party("sms", HANSEN[0]), Party("sms", HANSEN[1]))
