"""Welcomes: the one text a foster home gets on joining a group. Pure.

A home is welcomed to a group once: when it is in the group now and was never welcomed
to it (`welcomed`, kept by the service across loads). The welcome goes to the home's
channel (Telegram if linked, else each phone by SMS) from the number the group's SMS come
from, so that an SMS answer reaches the group and a Telegram reply to it answers it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from rota.model import FosterHome, Group
from routing import group_texts as say
from routing.audience import LinkKey, Recipient
from routing.callers import Directory
from routing.channels import TelegramLink, parties
from routing.group_messages import (
    Writer,
    helpline_number,
    network_group,
    relay_sender,
    writer_groups,
)


@dataclass(frozen=True, slots=True)
class Welcome:
    """One welcome text to one address of a home joining `group`."""

    group: Group
    home: FosterHome
    recipient: Recipient
    sender: str  # the sending number; "bot" on Telegram
    body: str


def joining(
    directory: Directory, welcomed: Collection[tuple[str, str]]
) -> list[tuple[Group, FosterHome]]:
    """Every (group, home) in the register now that was never welcomed, in file order."""
    found = []
    for group in directory.groups.values():
        for home_id in group.homes:
            home = directory.homes.get(home_id)
            if home is not None and (group.id, home_id) not in welcomed:
                found.append((group, home))
    return found


def welcomes(
    directory: Directory, group: Group, home: FosterHome, links: Mapping[LinkKey, TelegramLink]
) -> list[Welcome]:
    """The welcome of `home` to `group`, to each of its addresses (none when the group's
    SMS have no number to come from and the home has no Telegram)."""
    helpline = helpline_number(directory, group.kommune)
    number = relay_sender(group, directory.network_number, helpline)
    mine = writer_groups(directory, Writer(home=home))
    code = mine.index(group) + 1 if group in mine else 1
    hub = directory.homes.get(group.hub) if group.hub else None
    staff = [directory.people[p].name for p in group.staff if p in directory.people]
    reachable = number is not None and number in (group.number, directory.network_number)
    coded = group.number is None and network_group(mine) != group
    found = []
    for party in parties(home.phones, links.get(("foster_home", home.id))):
        if party.channel == "sms" and number is None:
            continue
        how = say.how_to_write(party.channel, code, coded, reachable)
        body = say.welcome(group, hub.name if hub else None, staff, how, helpline, party.channel)
        recipient = Recipient(party.channel, party.to, home.kommune, f"home:{home.id}")
        sender = (number or "") if party.channel == "sms" else "bot"
        found.append(Welcome(group, home, recipient, sender, body))
    return found
