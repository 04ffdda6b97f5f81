"""Where a text to the network goes, who a relay reaches, what they read, and who is
welcomed: the pure core of group messaging (`routing.group_messages`, `group_texts`,
`group_welcomes`)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rota.checks import warnings
from rota.orgfile import parse_org
from routing import group_texts as say
from routing.callers import Directory
from routing.channels import TelegramLink
from routing.group_messages import (
    ChooseGroup,
    Decision,
    Empty,
    ListGroups,
    NetworkInfo,
    NotGroup,
    NotMember,
    Relay,
    Writer,
    group_code,
    helpline_number,
    read_sms,
    read_telegram,
    relay_recipients,
    writer_by_phone,
    writer_groups,
)
from routing.group_welcomes import joining, welcomes
from tests.unit.group_fixtures import org_text

ORG = parse_org(org_text())
D = Directory(ORG)
GROUP_IDS = ("asker-rf-nilsen", "asker-nettverk", "asker-kafe", "baerum-nettverk")
RF, NETT, KAFE, BAERUM = (D.groups[g] for g in GROUP_IDS)
GROUP_LINE, NETWORK, ASKER_LINE = "+4767000091", "+4767000090", "+4767000001"
HANSEN, NILSEN, OLSEN = (Writer(home=D.homes[h]) for h in ("hansen", "nilsen", "olsen"))
KARI, OLA = Writer(person=D.people["kari"]), Writer(person=D.people["ola"])
NOBODY = Writer()


def test_the_writer_by_phone_a_foster_home_first_then_staff() -> None:
    assert writer_by_phone(D, "+4798765433") == HANSEN  # a second phone
    assert writer_by_phone(D, "+4791234567") == KARI
    assert writer_by_phone(D, "+4799999999") == NOBODY and not NOBODY.known


def test_the_g_numbering_is_file_order_of_the_writers_groups() -> None:
    assert writer_groups(D, HANSEN) == (RF, NETT, KAFE)
    assert writer_groups(D, NILSEN) == (RF,)  # the hub belongs to its ressursfamilie
    assert writer_groups(D, OLA) == (NETT, KAFE)  # staff: the groups they follow
    assert writer_groups(D, NOBODY) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#G1 Hei", (1, "Hei")),
        ("  #g12   Hei  alle ", (12, "Hei  alle")),
        ("#G2\nTo linjer\nher", (2, "To linjer\nher")),
        ("#G3", (3, "")),
        ("#G1Hei", None),  # a code is followed by a space or the end
        ("#Gx Hei", None),
        ("#K7 Hei", None),  # a staff conversation code, not a group
        ("Hei #G1", None),
        ("#G1234 Hei", None),
        ("", None),
    ],
)  # fmt: skip
def test_group_code(text: str, expected: tuple[int, str] | None) -> None:
    assert group_code(text) == expected


@pytest.mark.parametrize(
    ("writer", "dialled", "body", "expected"),
    [
        # A group's own number: members and staff relay, anyone else is refused.
        (HANSEN, GROUP_LINE, " Hei alle ", Relay(RF, "Hei alle")),
        (NILSEN, GROUP_LINE, "Hei", Relay(RF, "Hei")),
        (KARI, GROUP_LINE, "Husk fagdagen", Relay(RF, "Husk fagdagen")),
        (HANSEN, GROUP_LINE, "#G3 Hei", Relay(RF, "#G3 Hei")),  # the number is the context
        (HANSEN, GROUP_LINE, "  ", Empty(RF)),
        (OLSEN, GROUP_LINE, "Hei", NotMember(RF)),  # a foster home of another group
        (OLA, GROUP_LINE, "Hei", NotMember(RF)),  # staff of other groups
        (NOBODY, GROUP_LINE, "Hei", NotMember(RF)),
        (NOBODY, GROUP_LINE, "", NotMember(RF)),
        # The network number: the one group reached there, or a code.
        (OLSEN, NETWORK, "Hei", Relay(BAERUM, "Hei")),
        (NILSEN, NETWORK, "Hei", Relay(RF, "Hei")),  # the only group, with its own number
        (HANSEN, NETWORK, "Hei", ChooseGroup((RF, NETT, KAFE))),  # two without a number
        (HANSEN, NETWORK, "#G3 Kafé?", Relay(KAFE, "Kafé?")),
        (HANSEN, NETWORK, "#G1 Hei", Relay(RF, "Hei")),
        (HANSEN, NETWORK, "#G4 Hei", ChooseGroup((RF, NETT, KAFE))),
        (HANSEN, NETWORK, "#G0 Hei", ChooseGroup((RF, NETT, KAFE))),
        (HANSEN, NETWORK, "#G2", Empty(NETT)),
        (OLA, NETWORK, "#G2 Hei", Relay(KAFE, "Hei")),
        (OLA, NETWORK, "Hei", ChooseGroup((NETT, KAFE))),
        (NOBODY, NETWORK, "Hei", NetworkInfo()),
        (NOBODY, NETWORK, "#G1 Hei", NetworkInfo()),
        (Writer(home=D.homes["haugen"]), NETWORK, "Hei", Relay(NETT, "Hei")),  # one numberless
    ],
)  # fmt: skip
def test_read_sms(writer: Writer, dialled: str, body: str, expected: Decision) -> None:
    assert read_sms(D, writer, dialled, body) == expected


@pytest.mark.parametrize(
    ("writer", "text", "replied", "expected"),
    [
        # The safety rule: without a group context it is help.
        (HANSEN, "Kan noen ringe oss?", None, NotGroup()),
        (NILSEN, "Hei", None, NotGroup()),  # even with one group only
        (KARI, "#K7 Jeg ringer deg", None, NotGroup()),  # a staff command
        (Writer(home=D.homes["kristiansen"]), "Hei", None, NotGroup()),
        (NOBODY, "#G1 Hei", None, NotGroup()),  # no groups: the code means nothing here
        (Writer(home=replace(D.homes["hansen"], id="gone")), "#G1 Hei", None, NotGroup()),
        # A reply to a group message answers that group.
        (HANSEN, "Vi kommer!", "asker-nettverk", Relay(NETT, "Vi kommer!")),
        (KARI, "Fint!", "asker-rf-nilsen", Relay(RF, "Fint!")),
        (HANSEN, "#G3 Til kafeen", "asker-rf-nilsen", Relay(KAFE, "Til kafeen")),
        (OLSEN, "Hei", "asker-rf-nilsen", NotMember(RF)),  # left the group since
        (HANSEN, "Hei", "gone-group", NotGroup()),  # a group no longer in the register
        (HANSEN, " ", "asker-rf-nilsen", Empty(RF)),
        # Codes, and /grupper.
        (HANSEN, "#G2 Hei", None, Relay(NETT, "Hei")),
        (HANSEN, "#G7 Hei", None, ChooseGroup((RF, NETT, KAFE))),
        (HANSEN, "/grupper", None, ListGroups((RF, NETT, KAFE))),
        (NILSEN, "/GRUPPER@fosterhjem_bot", None, ListGroups((RF,))),
        (NOBODY, "/grupper", None, ListGroups(())),
        (HANSEN, "/grupper nå", None, NotGroup()),
    ],
)  # fmt: skip
def test_read_telegram(writer: Writer, text: str, replied: str | None, expected: Decision) -> None:
    assert read_telegram(D, writer, text, replied) == expected


LINKS = {
    ("foster_home", "nilsen"): TelegramLink(7001),
    ("foster_home", "johansen"): TelegramLink(7002, blocked=True),  # falls back to SMS
    ("person", "kari"): TelegramLink(7003),
}


def test_a_relay_reaches_every_other_home_and_the_staff_once_on_their_channel() -> None:
    found = [(r.channel, r.address, r.who) for r in relay_recipients(D, RF, HANSEN, LINKS)]
    assert found == [
        ("telegram", "7001", "home:nilsen"),
        ("sms", "+4792345678", "home:johansen"),
        ("sms", "+4747112233", "home:haugen"),
        ("sms", "+4790112233", "home:haugen"),
        ("sms", "+4798700001", "home:berg"),
        ("sms", "+4798700002", "home:dahl"),
        ("telegram", "7003", "person:kari"),
        ("sms", "+4741234501", "person:ingrid"),
    ]


def test_a_relay_never_goes_back_to_the_writer_on_any_address() -> None:
    from_kari = {r.who for r in relay_recipients(D, RF, KARI, LINKS)}
    assert "person:kari" not in from_kari and "home:hansen" in from_kari
    shared = replace(D.homes["berg"], phones=("+4798700001", "+4798765432"))  # Hansen's phone
    d = Directory(replace(ORG, foster_homes=(*ORG.foster_homes[:-2], shared, ORG.foster_homes[-1])))
    addresses = {r.address for r in relay_recipients(d, RF, HANSEN, {})}
    assert "+4798700001" in addresses and "+4798765432" not in addresses


@pytest.mark.parametrize(
    ("channel", "marked", "expected"),
    [
        ("sms", False, "Familien Hansen: Hei alle"),
        ("sms", True, "[Ressursfamilien Nilsen] Familien Hansen: Hei alle"),
        ("telegram", False, "[Ressursfamilien Nilsen] Familien Hansen: Hei alle"),
    ],
)
def test_relay_text(channel: str, marked: bool, expected: str) -> None:
    assert say.relay(RF, "Familien Hansen", "Hei alle", channel, marked=marked) == expected


@pytest.mark.parametrize(("channel", "limit"), [("sms", 1600), ("telegram", 4096)])
def test_a_relay_too_long_for_the_channel_is_cut(channel: str, limit: int) -> None:
    text = say.relay(RF, "Familien Hansen", "æ" * 5000, channel, marked=False)
    assert len(text) == limit and text.endswith("…")


def test_staff_are_named_with_their_kommune() -> None:
    assert say.staff_label("Kari Nordmann", "Asker") == "Kari Nordmann (Asker kommune)"


def test_answers_name_the_group_and_the_helpline_never_a_member() -> None:
    refusal = say.not_member(RF, helpline_number(D, RF.kommune))
    assert "Ressursfamilien Nilsen" in refusal and ASKER_LINE in refusal
    assert all(n in refusal for n in ("112", "113", "116 111"))
    assert "Familien" not in refusal
    assert "+4767000002" in say.network_info(helpline_number(D, "baerum"))
    listing = say.choose_group((RF, NETT, KAFE), ASKER_LINE)
    assert "#G1 Ressursfamilien Nilsen\n#G2 Fosterhjemsnettverket i Asker\n#G3" in listing
    assert helpline_number(D, None) == ASKER_LINE  # the first kommune's


def test_every_home_is_welcomed_to_each_group_it_is_in_until_it_was() -> None:
    pairs = [(g.id, h.id) for g, h in joining(D, set())]
    assert len(pairs) == 6 + 3 + 2 + 2 and pairs[0] == ("asker-rf-nilsen", "nilsen")
    done = set(pairs) - {("asker-kafe", "berg")}
    assert [(g.id, h.id) for g, h in joining(D, done)] == [("asker-kafe", "berg")]


def test_a_welcome_says_what_the_group_is_who_follows_it_and_how_to_write() -> None:
    [sms, second] = welcomes(D, RF, D.homes["hansen"], {})
    assert (sms.recipient.address, second.recipient.address) == ("+4798765432", "+4798765433")
    assert sms.sender == GROUP_LINE and sms.body == second.body
    assert sms.body.startswith(
        "Velkommen! Ressursfamilien Nilsen er en ressursfamilie: Familien Nilsen og "
        "fosterhjemmene rundt dem. Gruppen følges av Kari Nordmann og Ingrid Solberg. "
        "Skriv til dette nummeret, så får de andre i gruppen meldingen."
    )
    assert "ikke skriv navn eller detaljer om barna" in sms.body
    kafe = welcomes(D, KAFE, D.homes["hansen"], {})[0]
    assert kafe.sender == NETWORK and "med #G3 først" in kafe.body
    assert "et nettverk" in kafe.body
    [haugen, _] = welcomes(D, NETT, D.homes["haugen"], {})  # its only numberless group
    assert "#G" not in haugen.body
    [telegram] = welcomes(D, RF, D.homes["nilsen"], LINKS)
    assert telegram.sender == "bot" and telegram.recipient.address == "7001"
    assert telegram.body.startswith("[Ressursfamilien Nilsen] Velkommen!")
    assert "«#G1 din tekst»" in telegram.body and "/grupper" in telegram.body


def test_a_group_without_any_number_to_write_to_is_warned_about() -> None:
    assert warnings(ORG) == []
    org = replace(ORG, helpline=replace(ORG.helpline, network_number=None))
    assert [w.split(":")[0] for w in warnings(org)] == [
        "group 'baerum-nettverk'",
        "group 'asker-nettverk'",
        "group 'asker-kafe'",
    ]
    [sms] = welcomes(Directory(org), BAERUM, D.homes["olsen"], {})
    assert sms.sender == "+4767000002" and "Skriv til" not in sms.body  # answers there are help
