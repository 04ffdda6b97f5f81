"""Warnings about an organisation that loads, but that a coordinator should look at.

Pure: an `Organisation` in, English lines out, each naming the entry and field like the
errors of `rota.orgfile` do. A warning never stops a load.
"""

from __future__ import annotations

from rota.model import Organisation


def warnings(org: Organisation) -> list[str]:
    """Everything worth a second look, in file order."""
    size = org.helpline.ressursfamilie_size
    found = [
        f"group {group.id!r}: field 'members': {len(group.members)} foster homes are linked"
        f" to this ressursfamilie, more than ressursfamilie_size ({size})"
        for group in org.groups
        if group.kind == "ressursfamilie" and len(group.members) > size
    ]
    if org.helpline.network_number is None:
        found += [
            f"group {group.id!r}: field 'number': the group has no number of its own and"
            " [helpline] has no network_number: its SMS come from the kommune's helpline"
            " number, and members can only write to it on Telegram"
            for group in org.groups
            if group.number is None
        ]
    return found
