"""What changed between two versions of the organisation, entry by entry.

`helpline load` of a file dumped from an older register version refuses (without
`--force`) and lists these changes, so a file never silently overwrites what was edited
since, such as an override a coordinator made in the console. Entries are matched by
their key in the rota file (`id`, a coverage's kommune, a rotation's team, an access
entry's person); an override has no key of its own, so it is matched whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rota.model import Organisation, Override
from rota.orgfile.values import format_local
from rota.wallclock import zone

ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the rota file that differs: `section` as the file names it."""

    section: str
    entry: str
    kind: ChangeKind

    def __str__(self) -> str:
        return f"{self.section} {self.entry}: {self.kind}"


def changes(old: Organisation, new: Organisation) -> list[Change]:
    """The entries that differ from `old` to `new`, section by section in file order;
    within a section `old`'s entries first, then the added ones. Moving an entry within
    its section is no change."""
    found: list[Change] = []
    if old.helpline != new.helpline:
        found.append(Change("helpline", "[helpline]", "changed"))
    tz = zone(new.helpline.timezone)

    def override_key(o: Override) -> str:
        return f"{o.team}/{o.person} {format_local(o.start, tz)}..{format_local(o.end, tz)}"

    sections: tuple[tuple[str, Sequence[object], Sequence[object], Callable[..., str]], ...] = (
        ("kommune", old.kommuner, new.kommuner, lambda k: repr(k.id)),
        ("team", old.teams, new.teams, lambda t: repr(t.id)),
        ("person", old.people, new.people, lambda p: repr(p.id)),
        ("coverage", old.coverage, new.coverage, lambda c: repr(c.kommune)),
        ("rotation", old.rotations, new.rotations, lambda r: repr(r.team)),
        ("override", old.overrides, new.overrides, override_key),
        ("foster_home", old.foster_homes, new.foster_homes, lambda f: repr(f.id)),
        ("group", old.groups, new.groups, lambda g: repr(g.id)),
        ("access", old.access, new.access, lambda a: repr(a.person)),
    )  # fmt: skip
    for section, before, after, key in sections:
        found.extend(_section_changes(section, before, after, key))
    return found


def _section_changes(
    section: str, before: Sequence[object], after: Sequence[object], key: Callable[..., str]
) -> list[Change]:
    old = {key(entry): entry for entry in before}
    new = {key(entry): entry for entry in after}
    found: list[Change] = []
    for name, entry in old.items():
        if name not in new:
            found.append(Change(section, name, "removed"))
        elif new[name] != entry:
            found.append(Change(section, name, "changed"))
    found.extend(Change(section, name, "added") for name in new if name not in old)
    return found


def stale_base(stated: int | None, current: int | None, origins: Mapping[int, str]) -> int | None:
    """The version a load's file is based on when the register has moved past it, so
    the load must be forced; None when it may go ahead.

    A file that names its version (`version = N`, as `dump` writes) is stale unless N is
    the current version. One that names none was written by hand: it is stale only when
    console edits (versions of origin "console") came after the last load from a file,
    and is then based on the version before the first of them. With nothing loaded,
    nothing can be overwritten."""
    if current is None:
        return None
    if stated is not None:
        return None if stated == current else stated
    last_file = max((v for v, origin in origins.items() if origin == "file"), default=0)
    edits = [v for v, origin in origins.items() if origin == "console" and v > last_file]
    return min(edits) - 1 if edits else None
