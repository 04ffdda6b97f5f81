"""Audiences of broadcasts and invitations: who `kommune:ID,group:ID,home:ID,team:ID`
means. Pure, over one `Organisation` and the Telegram links handed in.

* `kommune:ID` every foster home of the kommune; `group:ID` the group's foster homes (its
  hub and members); `home:ID` one foster home; `team:ID` the people of the team.
* A foster home is reached on its Telegram chat when linked (and not blocked), else on each
  of its phones; a person on Telegram, else their phone (`routing.channels.parties`).
* Recipients are deduplicated: a home in two groups, or a phone two homes share, gets the
  message once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeGuard

from rota.model import Organisation
from routing.channels import TelegramLink, parties

TargetKind = Literal["kommune", "group", "home", "team"]
TARGET_KINDS: tuple[TargetKind, ...] = ("kommune", "group", "home", "team")
MAX_TARGETS = 50
#: One target: `kind:id`; ids have no comma, colon or control character.
TARGET_PATTERN = r"(kommune|group|home|team):[^,:\x00-\x1f\x7f]{1,64}"
AUDIENCE_PATTERN = rf"^{TARGET_PATTERN}(,{TARGET_PATTERN}){{0,{MAX_TARGETS - 1}}}$"
_TARGET = re.compile(r"\s*([a-z]+):([^,:\x00-\x1f\x7f]{1,64})\s*")

#: (kind, id) of a Telegram link: ("foster_home", "hansen") or ("person", "kari").
LinkKey = tuple[str, str]


class AudienceError(ValueError):
    """An audience that cannot be read; the message says why (English)."""


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True, slots=True)
class Recipient:
    """One address a message goes to: its channel, the address (E.164 or a chat id), the
    kommune whose number answers for it (None: none known) and who it is, e.g.
    "home:hansen" or "person:kari"."""

    channel: str
    address: str
    kommune: str | None
    who: str


def _is_kind(text: str) -> TypeGuard[TargetKind]:
    return text in TARGET_KINDS


def parse_audience(text: str) -> tuple[Target, ...]:
    """`kind:id,kind:id,...` as targets, each once, in the order given."""
    parts = text.split(",")
    if not text.strip():
        raise AudienceError("the audience is empty: expected e.g. kommune:asker,group:ID")
    if len(parts) > MAX_TARGETS:
        raise AudienceError(f"at most {MAX_TARGETS} targets in one audience, not {len(parts)}")
    targets: list[Target] = []
    for part in parts:
        match = _TARGET.fullmatch(part)
        if match is None:
            shown = part.strip()[:70]
            raise AudienceError(f"{shown!r} is not kind:id (kommune, group, home, team)")
        kind = match[1]
        if not _is_kind(kind):
            raise AudienceError(
                f"unknown audience kind {kind!r}: expected {', '.join(TARGET_KINDS)}"
            )
        targets.append(Target(kind, match[2]))
    return tuple(dict.fromkeys(targets))


def target_kommuner(target: Target, org: Organisation) -> frozenset[str] | None:
    """The kommuner a target belongs to; None when the register has no such target."""
    match target.kind:
        case "kommune":
            found = any(k.id == target.id for k in org.kommuner)
            return frozenset({target.id}) if found else None
        case "group":
            group = next((g for g in org.groups if g.id == target.id), None)
            return None if group is None else frozenset({group.kommune})
        case "home":
            home = next((h for h in org.foster_homes if h.id == target.id), None)
            return None if home is None else frozenset({home.kommune})
        case "team":
            team = next((t for t in org.teams if t.id == target.id), None)
            return None if team is None else frozenset(team.kommuner)


def unreachable(
    targets: tuple[Target, ...], org: Organisation, allows: Callable[[str], bool]
) -> tuple[Target, ...]:
    """Targets that are unknown, or outside the scope (`allows(kommune)`): a team counts
    only when every kommune it serves is allowed. Both answer alike, so ids outside a
    koordinator's kommuner cannot be probed."""
    missing = []
    for target in targets:
        kommuner = target_kommuner(target, org)
        if kommuner is None or not kommuner or not all(allows(k) for k in kommuner):
            missing.append(target)
    return tuple(missing)


def resolve(
    targets: tuple[Target, ...], org: Organisation, links: Mapping[LinkKey, TelegramLink]
) -> tuple[Recipient, ...]:
    """Every address the audience reaches, once each, in the order the targets name them.
    Unknown targets reach nobody (check them with `unreachable` first)."""
    homes = {h.id: h for h in org.foster_homes}
    home_ids = audience_homes(targets, org)
    person_ids: list[str] = []
    for target in targets:
        if target.kind == "team":
            person_ids += [p.id for p in org.people if target.id in p.teams]
    recipients: dict[tuple[str, str], Recipient] = {}
    for home_id in home_ids:
        home = homes[home_id]
        for party in parties(home.phones, links.get(("foster_home", home.id))):
            key = (party.channel, party.to)
            recipients.setdefault(key, Recipient(*key, home.kommune, f"home:{home.id}"))
    kommune_of_team = {t.id: t.kommuner[0] for t in org.teams if t.kommuner}
    people = {p.id: p for p in org.people}
    for person_id in dict.fromkeys(person_ids):
        person = people[person_id]
        kommune = next((kommune_of_team[t] for t in person.teams if t in kommune_of_team), None)
        for party in parties((person.phone,), links.get(("person", person.id))):
            key = (party.channel, party.to)
            recipients.setdefault(key, Recipient(*key, kommune, f"person:{person.id}"))
    return tuple(recipients.values())


def audience_homes(targets: tuple[Target, ...], org: Organisation) -> tuple[str, ...]:
    """The foster homes the audience names, once each, in order (a team names none)."""
    homes = {h.id for h in org.foster_homes}
    home_ids: list[str] = []
    for target in targets:
        match target.kind:
            case "kommune":
                home_ids += [h.id for h in org.foster_homes if h.kommune == target.id]
            case "group":
                home_ids += [h for g in org.groups if g.id == target.id for h in g.homes]
            case "home":
                home_ids += [target.id] if target.id in homes else []
    return tuple(dict.fromkeys(home_ids))


def info_sender(org: Organisation, kommune: str | None) -> str | None:
    """The number info messages go out from: the network number, else the recipient's
    kommune's helpline number, else the organisation's first helpline number."""
    if org.helpline.network_number:
        return org.helpline.network_number
    own = next((k.numbers[0] for k in org.kommuner if k.id == kommune and k.numbers), None)
    return own or next((k.numbers[0] for k in org.kommuner if k.numbers), None)
