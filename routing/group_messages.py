"""Group messages: where a text to the network number or a group's own number goes, and
who it is relayed to. Pure, over one `Directory` and the Telegram links handed in.

* A text to a group's own number from one of its foster homes or staff is relayed to the
  group. From anyone else it is refused (`NotMember`): nothing is relayed.
* A text to the network number goes to the writer's one group reached there (a group
  without a number of its own; or, when the writer has one group at all, that one).
  Otherwise it needs `#G<n>` in front, `n` the group's place in `writer_groups`.
* On Telegram a group needs context: a reply to a group message, or `#G<n>`; `/grupper`
  lists the groups. Anything else is `NotGroup`, and goes to on-duty staff as before:
  when in doubt, it is help. (An SMS to a kommune's helpline number never comes here.)

The numbering of `#G<n>` is the writer's groups in the rota file's order, a foster
home's as hub or member, a person's as staff; the same in SMS, Telegram and `/grupper`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from rota.model import FosterHome, Group, Person
from routing.audience import LinkKey, Recipient
from routing.callers import Directory
from routing.channels import TelegramLink, parties

#: The outbox kind of help texts to whoever wrote to the network (not a member, which
#: group, muted): anyone may write there, so retention blanks their number too.
ANSWER_KIND = "group_answer"
#: `#G2 tekst` (any letter case): the writer's second group.
_CODE = re.compile(r"\s*#G(\d{1,3})(?![0-9A-Za-zÆØÅæøå])\s*(.*)", re.IGNORECASE | re.DOTALL)
_GROUPS_COMMAND = re.compile(r"\s*/grupper(@\w+)?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Writer:
    """Who writes: a foster home, a person (staff), or neither (an unknown sender)."""

    home: FosterHome | None = None
    person: Person | None = None

    @property
    def known(self) -> bool:
        return self.home is not None or self.person is not None


@dataclass(frozen=True, slots=True)
class Relay:
    """Relay `text` to `group`."""

    group: Group
    text: str


@dataclass(frozen=True, slots=True)
class Empty:
    """A text to `group` with nothing in it: nothing to relay."""

    group: Group


@dataclass(frozen=True, slots=True)
class ChooseGroup:
    """Which group is meant is not clear: list the writer's groups with their `#G` codes."""

    groups: tuple[Group, ...]


@dataclass(frozen=True, slots=True)
class ListGroups:
    """`/grupper`: the writer's groups (maybe none)."""

    groups: tuple[Group, ...]


@dataclass(frozen=True, slots=True)
class NotMember:
    """Someone outside `group` wrote to it: say whose group it is; nothing is relayed."""

    group: Group


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    """Someone in no group wrote to the network number: say what the number is."""


@dataclass(frozen=True, slots=True)
class NotGroup:
    """No group context (Telegram): the message goes the usual way, to on-duty staff."""


Decision = Relay | Empty | ChooseGroup | ListGroups | NotMember | NetworkInfo | NotGroup


def writer_by_phone(directory: Directory, phone: str) -> Writer:
    """The foster home or person with this phone (a foster home first)."""
    home = directory.homes_by_phone.get(phone)
    if home is not None:
        return Writer(home=home)
    return Writer(person=directory.people_by_phone.get(phone))


def writer_groups(directory: Directory, writer: Writer) -> tuple[Group, ...]:
    """The writer's groups in `#G` order: file order, a home's as hub or member and a
    person's as staff (a person who is both sees the home's first)."""
    found: list[Group] = []
    if writer.home is not None:
        found += directory.groups_of(writer.home.id)
    if writer.person is not None:
        found += [g for g in directory.groups.values() if writer.person.id in g.staff]
    return tuple(dict.fromkeys(found))


def belongs(group: Group, writer: Writer) -> bool:
    """Is the writer one of the group's foster homes or staff?"""
    home, person = writer.home, writer.person
    return (home is not None and home.id in group.homes) or (
        person is not None and person.id in group.staff
    )


def group_code(text: str) -> tuple[int, str] | None:
    """`#G<n> tekst` as (n, tekst); None when the text does not start with a `#G` code."""
    found = _CODE.fullmatch(text)
    return None if found is None else (int(found[1]), found[2].strip())


def network_group(groups: tuple[Group, ...]) -> Group | None:
    """The group a plain text to the network number goes to: the one group of `groups`
    without a number of its own, or the only group; None when it is not clear."""
    numberless = [g for g in groups if g.number is None]
    if len(numberless) == 1:
        return numberless[0]
    return groups[0] if len(groups) == 1 else None


def read_sms(directory: Directory, writer: Writer, dialled: str, body: str) -> Decision:
    """An SMS to a group's own number or to the network number."""
    group = directory.groups_by_number.get(dialled)
    if group is not None:
        return _to(group, body) if belongs(group, writer) else NotMember(group)
    mine = writer_groups(directory, writer)
    if not mine:
        return NetworkInfo()
    coded = _coded(mine, body)
    if coded is not None:
        return coded
    only = network_group(mine)
    return ChooseGroup(mine) if only is None else _to(only, body)


def read_telegram(
    directory: Directory, writer: Writer, text: str, replied_group: str | None
) -> Decision:
    """A Telegram message from a linked account; `replied_group`: the group of the group
    message it replies to, if it does."""
    mine = writer_groups(directory, writer)
    if _GROUPS_COMMAND.fullmatch(text):
        return ListGroups(mine)
    if replied_group is not None:
        group = directory.groups.get(replied_group)
        if group is not None and belongs(group, writer):
            # A reply with a code is for the group the code names.
            return _coded(mine, text) or _to(group, text)
        if group is not None:
            return NotMember(group)
    return (_coded(mine, text) if mine else None) or NotGroup()


def _coded(mine: tuple[Group, ...], text: str) -> Relay | Empty | ChooseGroup | None:
    coded = group_code(text)
    if coded is None:
        return None
    number, rest = coded
    if not 1 <= number <= len(mine):
        return ChooseGroup(mine)
    return _to(mine[number - 1], rest)


def _to(group: Group, text: str) -> Relay | Empty:
    text = text.strip()
    return Relay(group, text) if text else Empty(group)


def relay_recipients(
    directory: Directory, group: Group, writer: Writer, links: Mapping[LinkKey, TelegramLink]
) -> tuple[Recipient, ...]:
    """Every other foster home of the group (on Telegram when linked, else each phone by
    SMS) and the group's staff, once each; never the writer, on any of their addresses."""
    own: set[tuple[str, str]] = set()
    if writer.home is not None:
        own |= _addresses(writer.home.phones, links.get(("foster_home", writer.home.id)))
    if writer.person is not None:
        own |= _addresses((writer.person.phone,), links.get(("person", writer.person.id)))
    found: dict[tuple[str, str], Recipient] = {}
    for home_id in group.homes:
        home = directory.homes.get(home_id)
        if home is None or (writer.home is not None and home.id == writer.home.id):
            continue
        for party in parties(home.phones, links.get(("foster_home", home.id))):
            key = (party.channel, party.to)
            found.setdefault(key, Recipient(*key, home.kommune, f"home:{home.id}"))
    for person_id in group.staff:
        person = directory.people.get(person_id)
        if person is None or (writer.person is not None and person.id == writer.person.id):
            continue
        for party in parties((person.phone,), links.get(("person", person.id))):
            key = (party.channel, party.to)
            found.setdefault(key, Recipient(*key, group.kommune, f"person:{person.id}"))
    return tuple(r for key, r in found.items() if key not in own)


def _addresses(phones: tuple[str, ...], link: TelegramLink | None) -> set[tuple[str, str]]:
    addresses = {("sms", phone) for phone in phones}
    if link is not None:
        addresses.add(("telegram", str(link.chat_id)))
    return addresses


def relay_sender(group: Group, network_number: str | None, fallback: str | None) -> str | None:
    """The number a group's SMS go out from: its own, else the network number, else
    (`fallback`) its kommune's helpline number, where answers are help."""
    return group.number or network_number or fallback


def helpline_number(directory: Directory, kommune_id: str | None) -> str | None:
    """The helpline number to give someone: their kommune's first, else the first one."""
    kommune = directory.kommuner.get(kommune_id) if kommune_id else None
    if kommune is not None and kommune.numbers:
        return kommune.numbers[0]
    return next((k.numbers[0] for k in directory.kommuner.values() if k.numbers), None)
