"""The rota file loader's errors in Norwegian, for the console.

The loader (`rota.orgfile`) words its errors in English for operators (`helpline load`);
the console shows each with a Norwegian lead made here and the loader's own words below
it, so nothing the loader says is lost and the two never disagree about which entry and
field. A message this table does not know gets a general lead ("Feil i feltet").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rota.orgfile import OrgError

SECTION_NAMES = {
    "file": "filen",
    "helpline": "innstillinger",
    "kommune": "kommune",
    "team": "team",
    "person": "person",
    "coverage": "dekning",
    "rule": "regel",
    "rotation": "rotasjon",
    "override": "vaktbytte",
    "foster_home": "fosterhjem",
    "group": "gruppe",
    "access": "tilgang",
}

#: (pattern of the loader's message, the Norwegian lead); the first match wins.
_LEADS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), lead)
    for pattern, lead in (
        (r"^TOML syntax error", "Filen er ikke gyldig TOML."),
        (r"^not a (valid )?phone number", "Ugyldig telefonnummer."),
        (r"^missing required field", "Feltet mangler."),
        (r"^unknown section", "Ukjent seksjon."),
        (r"^unknown field", "Ukjent felt."),
        (r"^duplicate id", "Id-en er allerede brukt av en annen oppføring."),
        (r"^unknown kommune", "Ukjent kommune."),
        (r"^unknown team kind", "Ukjent type team."),
        (r"^unknown team", "Ukjent team."),
        (r"^unknown person", "Ukjent person."),
        (r"^unknown foster_home", "Ukjent fosterhjem."),
        (r"^unknown group kind", "Ukjent type gruppe."),
        (r"^unknown role", "Ukjent rolle."),
        (r"^unknown day word", "Ukjent dag."),
        (r"^unknown timezone", "Ukjent tidssone."),
        (r"already belongs to foster_home", "Nummeret tilhører allerede et annet fosterhjem."),
        (r"is already claimed by", "Nummeret er allerede i bruk."),
        (r"is listed twice", "Står to ganger."),
        (r"^expected a string", "Skal være tekst."),
        (r"^expected an array", "Skal være en liste."),
        (r"^expected a table", "Skal være en tabell."),
        (r"^expected an integer", "Skal være et heltall."),
        (r"^must be at least", "Tallet er for lite."),
        (r"^must not be empty", "Kan ikke være tomt."),
        (r"^must list at least one phone", "Skriv minst ett telefonnummer."),
        (r"^must list at least one", "Må ha minst én."),
        (r"^invalid time", "Ugyldig klokkeslett. Skriv TT:MM."),
        (r"^invalid quiet hours", "Ugyldig stilletid. Skriv TT:MM-TT:MM."),
        (r"^invalid season", "Ugyldig sesong. Skriv MM-DD..MM-DD."),
        (r"^invalid date and time", "Ugyldig tidspunkt. Skriv ÅÅÅÅ-MM-DDTTT:MM."),
        (r"^invalid date", "Ugyldig dato."),
        (r"^invalid (duration|period)", "Ugyldig varighet."),
        (r"overlap", "Reglene overlapper."),
        (r"does not serve kommune", "Teamet dekker ikke kommunen."),
        (r"is not in team", "Personen er ikke med i teamet."),
        (r"already has", "Finnes allerede."),
        (r"^must be after", "Slutt må være etter start."),
        (r"is the hub", "Ressursfamilien skal ikke stå blant medlemmene."),
        (r"a nettverk has no hub", "Et nettverk har ingen ressursfamilie."),
        (r"a koordinator needs", "En koordinator trenger minst én kommune."),
        (r"leave kommuner out", "Denne rollen skal ikke ha kommuner."),
    )
)
GENERAL_LEAD = "Feil i feltet."


@dataclass(frozen=True, slots=True)
class ShownError:
    """One loader error as the console shows it."""

    entry: str  # Norwegian: "fosterhjem 'hansen'"
    field: str
    lead: str  # Norwegian
    detail: str  # the loader's own words (English)


def lead(message: str) -> str:
    """The Norwegian lead of one loader message."""
    return next((nb for pattern, nb in _LEADS if pattern.search(message)), GENERAL_LEAD)


def entry_name(entry: str) -> str:
    """`foster_home 'hansen'` as `fosterhjem 'hansen'` (the id stays as written)."""
    section, space, rest = entry.partition(" ")
    return SECTION_NAMES.get(section, section) + space + rest


def shown(error: OrgError) -> ShownError:
    return ShownError(entry_name(error.entry), error.field, lead(error.message), error.message)
