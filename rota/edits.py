"""Edits of single register entries, validated by the rota file's own loader.

An edit is the current organisation as tables (`dump_org` read back) with one entry's
table put in, taken out or replaced, read again by `parse_org_data`: a form's values go
through exactly the checks of `helpline load`, so a rule lives once. Pure: values in, a
new `Organisation` out, or `OrgFileError` naming the entry and field.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping

from rota.model import Group, Organisation
from rota.orgfile import dump_org, parse_org_data

_SPLIT = re.compile(r"[,;\n]+")
_NOT_ID = re.compile(r"[^a-z0-9]+")
_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "å": "a"})


def split_phones(text: str) -> list[str]:
    """The numbers of a form's field: separated by commas, semicolons or lines."""
    return [part.strip() for part in _SPLIT.split(text) if part.strip()]


def new_id(name: str, taken: set[str]) -> str:
    """An id for a new entry made from its name (`Familien Bråten` → `familien-braten`),
    with `-2`, `-3`, ... when another entry has it."""
    folded = unicodedata.normalize("NFKD", name.lower().translate(_LETTERS))
    base = _NOT_ID.sub("-", folded.encode("ascii", "ignore").decode()).strip("-") or "fosterhjem"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _tables(org: Organisation) -> dict[str, object]:
    return tomllib.loads(dump_org(org))


def with_foster_home(org: Organisation, home_id: str, fields: Mapping[str, object]) -> Organisation:
    """`org` with the foster home `home_id` set to `fields` (name, kommune, phones as the
    rota file writes them): replaced where it is, or added last when it is new."""
    data = _tables(org)
    homes = data.get("foster_home", [])
    assert isinstance(homes, list)
    table = {"id": home_id, **fields}
    for index, home in enumerate(homes):
        if home.get("id") == home_id:
            homes[index] = table
            break
    else:
        homes.append(table)
    data["foster_home"] = homes
    return parse_org_data(data)


def groups_with_home(org: Organisation, home_id: str) -> tuple[Group, ...]:
    """The groups the foster home is in (as hub or member): it cannot leave the register
    while a group names it."""
    return tuple(g for g in org.groups if home_id in g.homes)


def without_foster_home(org: Organisation, home_id: str) -> Organisation:
    """`org` without the foster home `home_id` (deactivated: its history stays in the
    contact log, which keeps ids and names of its own)."""
    data = _tables(org)
    homes = data.get("foster_home", [])
    assert isinstance(homes, list)
    data["foster_home"] = [h for h in homes if h.get("id") != home_id]
    return parse_org_data(data)
