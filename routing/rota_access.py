"""Whose rota a console user may read, and whose overrides they may change.

Pure: the organisation and the user's `Scope` in, team ids out. A team is visible when
it serves a kommune of the scope; it is editable by an admin, and by a koordinator whose
kommuner hold every kommune the team serves (an override of a shared barnevernvakt
changes the other kommuner' nights too). A vakt reads and never edits.
"""

from __future__ import annotations

from rota.model import Organisation
from routing.access import Scope


def visible_teams(org: Organisation, scope: Scope) -> tuple[str, ...]:
    """The teams whose plan the scope may read, in register order."""
    return tuple(t.id for t in org.teams if any(scope.allows(k) for k in t.kommuner))


def editable_teams(org: Organisation, scope: Scope) -> tuple[str, ...]:
    """The teams whose overrides the scope may add and remove, in register order."""
    if scope.role == "vakt":
        return ()
    return tuple(t.id for t in org.teams if t.kommuner and all(scope.allows(k) for k in t.kommuner))
