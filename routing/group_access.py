"""Which groups a console user may follow, and what they may do there. Pure.

An admin, and a koordinator for the group's kommune, may do everything: read the members
and the messages, mute and unmute, and broadcast to the group. A person named among the
group's `staff` (they follow and moderate it) may read and mute, whatever their role, but
not broadcast: info messages to foster homes are the coordinators'. Anyone else does not
see the group at all: its page answers as for a group that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from rota.model import Group, Organisation
from routing.access import Scope


@dataclass(frozen=True, slots=True)
class GroupRights:
    broadcast: bool  # every right holder reads and moderates; this one also broadcasts


COORDINATOR = GroupRights(broadcast=True)
STAFF = GroupRights(broadcast=False)


def group_rights(group: Group, scope: Scope, person: str) -> GroupRights | None:
    """What the person may do in the group; None: it is not theirs to see."""
    if scope.role in ("admin", "koordinator") and scope.allows(group.kommune):
        return COORDINATOR
    if person in group.staff:
        return STAFF
    return None


def visible_groups(
    org: Organisation, scope: Scope, person: str
) -> tuple[tuple[Group, GroupRights], ...]:
    """The groups the person may see, in register order, with their rights."""
    shown = []
    for group in org.groups:
        rights = group_rights(group, scope, person)
        if rights is not None:
            shown.append((group, rights))
    return tuple(shown)
