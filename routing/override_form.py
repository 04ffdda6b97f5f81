"""The console's override form: its fields as the rota file's `[[override]]` table, and
the loader's errors on that entry as Norwegian messages beside each field.

The form is validated by the file loader itself (`rota.orgfile.parse_org` of the
organisation with the new entry added), so an override the console accepts is exactly
one `helpline load` accepts. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import tomli_w

from rota.orgfile import OrgError

#: The form's fields, as the rota file's `[[override]]` names them.
FIELDS: tuple[str, ...] = ("team", "person", "from", "to")

MISSING = {
    "team": "Velg et team.",
    "person": "Velg hvem som tar vakten.",
    "from": "Skriv når vakten begynner.",
    "to": "Skriv når vakten slutter.",
}
BAD_TIME = "Ugyldig tidspunkt. Skriv dato og klokkeslett, for eksempel 2026-12-24T08:00."
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^unknown team"), "Ukjent team."),
    (re.compile(r"^unknown person"), "Ukjent person."),
    (re.compile(r"^person .* is not in team"), "Personen er ikke med i dette teamet."),
    (re.compile(r"^must be after 'from'"), "Vakten må slutte etter at den begynner."),
    (re.compile(r"^invalid date in"), "Ugyldig dato."),
    (re.compile(r"^invalid date and time"), BAD_TIME),
)
NOT_SAVED = "Overstyringen kunne ikke lagres."


def override_table(form: Mapping[str, str]) -> str:
    """The `[[override]]` entry of the form's fields as typed; empty fields are left out,
    so the loader reports them as missing."""
    entry = {key: form[key].strip() for key in FIELDS if form.get(key, "").strip()}
    return "[[override]]\n" + tomli_w.dumps(entry)


def entry_name(index: int, team: str) -> str:
    """How the loader names the override at `index` (from 1) with this team."""
    name = f"override {index}"
    return f"{name} (team {team!r})" if team.strip() else name


def field_errors(errors: Sequence[OrgError], entry: str) -> tuple[dict[str, str], bool]:
    """The Norwegian message beside each field for the loader's errors on `entry`, and
    whether any error concerned something else (then the form as a whole is refused)."""
    found: dict[str, str] = {}
    other = False
    for error in errors:
        if error.entry != entry or error.field not in FIELDS:
            other = True
            continue
        found.setdefault(error.field, norwegian(error))
    return found, other


def norwegian(error: OrgError) -> str:
    """The loader's English message on a field of the form, in Norwegian."""
    if error.message in ("missing required field", "must not be empty"):
        return MISSING.get(error.field, "Fyll ut feltet.")
    for pattern, message in _MESSAGES:
        if pattern.search(error.message):
            return message
    return "Ugyldig verdi."
