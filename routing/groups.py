"""Groups of the network: who belongs to which group. Pure, over one `Directory`."""

from __future__ import annotations

from typing import Literal

from routing.callers import Directory

Membership = Literal["member", "unknown_group", "unknown_home", "not_member"]


def membership(directory: Directory, group_id: str, home_id: str) -> Membership:
    """Is the foster home in the group, as hub or member? Unknown ids are told apart, so a
    command can say which one is wrong."""
    group = directory.groups.get(group_id)
    if group is None:
        return "unknown_group"
    if home_id not in directory.homes:
        return "unknown_home"
    return "member" if home_id in group.homes else "not_member"
