"""Filter forms of the console's logs (GET forms: a filtered list is a link to share).

Each field is read into the value the queries take, or an error in bokmål to show beside
the field; a list is shown only when every field is right.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from multidict import MultiMapping

from rota.wallclock import local_midnight

BAD_DATE = "Ugyldig dato. Skriv den slik: 2026-11-23."
FROM_AFTER_TO = "Fra-datoen kan ikke være etter til-datoen."
NOT_A_CHOICE = "Velg et av valgene i listen."


@dataclass
class Form:
    """What a filter form sent (one value a field), and its errors by field."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    def choice(self, name: str, allowed: Collection[str]) -> str | None:
        """A select's value: None for «alle» (empty), an error for anything not offered."""
        value = self.values.get(name, "")
        if not value:
            return None
        if value not in allowed:
            self.errors[name] = NOT_A_CHOICE
            return None
        return value

    def text(self, name: str, longest: int = 200) -> str | None:
        value = " ".join(self.values.get(name, "").split())[:longest]
        return value or None

    def period(self, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """`fra` and `til`, local dates, both days included: the instants from the start
        of `fra` to the end of `til` (the start of the next day), DST-safe."""
        start, end = self._date("fra"), self._date("til")
        if start and end and start > end:
            self.errors["til"] = FROM_AFTER_TO
            return None, None
        since = local_midnight(start, tz) if start else None
        until = local_midnight(end + timedelta(days=1), tz) if end else None
        return since, until

    def _date(self, name: str) -> date | None:
        value = self.values.get(name, "").strip()
        if not value:
            return None
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is None or not 1970 <= parsed.year <= 9998:  # a day after it exists
            self.errors[name] = BAD_DATE
            return None
        return parsed


def read_form(query: MultiMapping[str], names: Collection[str]) -> Form:
    """The known fields of `query`, the first value of each; others are ignored."""
    values: Mapping[str, str] = {name: query.get(name, "") for name in names}
    return Form(dict(values))
