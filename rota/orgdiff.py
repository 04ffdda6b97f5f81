"""What a new organisation changes against the current one: the preview of an import.

Pure: two `Organisation` values in, per section the entries added, removed and changed
out. An entry is known by its key (a kommune, team, person, foster home or group by its
id; a coverage entry by its kommune, a rotation by its team, an access entry by its
person; an override by everything it says, so a moved override is one removed and one
added). `[helpline]` is one entry of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rota.model import Organisation


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of a section: its key and how it is shown (`id (name)`)."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class SectionDiff:
    section: str  # the rota file's section name: "kommune", "foster_home", ...
    added: tuple[Change, ...] = ()
    removed: tuple[Change, ...] = ()
    changed: tuple[Change, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _named(entry: Any) -> str:
    return f"{entry.id} ({entry.name})"


def _override_key(entry: Any) -> str:
    return f"{entry.team}: {entry.person} {entry.start.isoformat()}–{entry.end.isoformat()}"


# (section, the organisation's field, the key of an entry, its label)
_SECTIONS: tuple[tuple[str, str, Callable[[Any], str], Callable[[Any], str]], ...] = (
    ("kommune", "kommuner", lambda e: e.id, _named),
    ("team", "teams", lambda e: e.id, _named),
    ("person", "people", lambda e: e.id, _named),
    ("coverage", "coverage", lambda e: e.kommune, lambda e: e.kommune),
    ("rotation", "rotations", lambda e: e.team, lambda e: e.team),
    ("override", "overrides", _override_key, _override_key),
    ("foster_home", "foster_homes", lambda e: e.id, _named),
    ("group", "groups", lambda e: e.id, _named),
    ("access", "access", lambda e: e.person, lambda e: f"{e.person} ({e.role})"),
)


def diff_orgs(old: Organisation | None, new: Organisation) -> tuple[SectionDiff, ...]:
    """Every section's changes from `old` (None: an empty register) to `new`, in the rota
    file's order, sections without changes included (their diff is `empty`)."""
    diffs = [_helpline(old, new)]
    for section, field, key, label in _SECTIONS:
        before: Sequence[Any] = getattr(old, field) if old is not None else ()
        diffs.append(_section(section, before, getattr(new, field), key, label))
    return tuple(diffs)


def _helpline(old: Organisation | None, new: Organisation) -> SectionDiff:
    entry = (Change("helpline", "helpline"),)
    if old is None:
        return SectionDiff("helpline", added=entry)
    return SectionDiff("helpline", changed=entry if old.helpline != new.helpline else ())


def _section(
    section: str,
    before: Sequence[Any],
    after: Sequence[Any],
    key: Callable[[Any], str],
    label: Callable[[Any], str],
) -> SectionDiff:
    old = {key(e): e for e in before}
    new = {key(e): e for e in after}
    return SectionDiff(
        section,
        added=tuple(Change(k, label(e)) for k, e in new.items() if k not in old),
        removed=tuple(Change(k, label(e)) for k, e in old.items() if k not in new),
        changed=tuple(Change(k, label(e)) for k, e in new.items() if k in old and old[k] != e),
    )
