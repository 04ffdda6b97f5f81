"""Reading one TOML table of the organisation file, recording each problem by entry and field."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TypeVar, cast

T = TypeVar("T")

#: The fields each kind of table may have (`rule`: one coverage rule).
FIELDS: dict[str, tuple[str, ...]] = {
    "helpline": (
        "timezone",
        "fallback_phone",
        "message_deadline",
        "extra_holidays",
        "network_number",
        "quiet_hours",
        "ressursfamilie_size",
    ),
    "kommune": ("id", "name", "numbers"),
    "team": ("id", "name", "kind", "kommuner", "duty_phone"),
    "person": ("id", "name", "phone", "teams"),
    "coverage": ("kommune", "rules"),
    "rule": ("days", "from", "to", "team", "season"),
    "rotation": ("team", "members", "start", "every"),
    "override": ("team", "person", "from", "to"),
    "foster_home": ("id", "name", "kommune", "phones"),
    "group": ("id", "name", "kind", "kommune", "hub", "members", "staff", "number"),
    "access": ("person", "role", "kommuner"),
}
SECTIONS = tuple(key for key in FIELDS if key != "rule")
#: The file's top-level key naming the register version it was dumped from.
VERSION_KEY = "version"


@dataclass(frozen=True, slots=True)
class OrgError:
    """One problem in an organisation file: which entry, which field, what is wrong."""

    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        if not self.field:
            return f"{self.entry}: {self.message}"
        return f"{self.entry}: field '{self.field}': {self.message}"


class OrgFileError(ValueError):
    """An organisation file that cannot be loaded; `errors` lists every problem found."""

    def __init__(self, errors: list[OrgError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


def describe(value: object) -> str:
    """What a TOML value is, in words: "a string", "an array", "a TOML date", ..."""
    names = (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a float"),
        (str, "a string"),
        (list, "an array"),
        (dict, "a table"),
        (datetime, "a TOML datetime"),
        (date, "a TOML date"),
        (time, "a TOML time"),
    )
    for kind, name in names:
        if isinstance(value, kind):
            return name
    return type(value).__name__


def did_you_mean(value: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown(kind: str, value: str, known: Collection[str]) -> str:
    return f"unknown {kind} {value!r}{did_you_mean(value, known)}"


def entry_name(section: str, index: int, table: Mapping[str, object], key: str) -> str:
    """`team 'asker-bvt'` by the entry's `key`, or `team #3` when that is unreadable."""
    value = table.get(key)
    if isinstance(value, str) and value.strip():
        return f"{section} {value!r}"
    return f"{section} #{index}"


class Entry:
    """Reads the fields of one table, recording problems under the entry's name."""

    def __init__(
        self, name: str, kind: str, table: Mapping[str, object], errors: list[OrgError]
    ) -> None:
        self.name = name
        self.table = table
        self.errors = errors
        allowed = FIELDS[kind]
        for key in table:
            if key not in allowed:
                hint = did_you_mean(key, allowed) or f" (expected one of: {', '.join(allowed)})"
                self.error(key, f"unknown field{hint}")

    def error(self, field: str, message: str) -> None:
        self.errors.append(OrgError(self.name, field, message))

    def get(self, key: str, required: bool) -> object:
        if key in self.table:
            return self.table[key]
        if required:
            self.error(key, "missing required field")
        return None  # TOML has no null: None means absent

    def _check_text(self, key: str, value: object) -> str | None:
        if not isinstance(value, str):
            hint = " (put it in quotes)" if isinstance(value, date | time) else ""
            self.error(key, f"expected a string, got {describe(value)}{hint}")
            return None
        if not value.strip():
            self.error(key, "must not be empty")
            return None
        return value

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self.get(key, required)
        return None if value is None else self._check_text(key, value)

    def texts(self, key: str, *, required: bool = True) -> list[str] | None:
        """A list of strings; an absent optional list is empty."""
        value = self.get(key, required)
        if value is None:
            return None if required else []
        if not isinstance(value, list):
            self.error(key, f"expected an array of strings, got {describe(value)}")
            return None
        items = [self._check_text(key, item) for item in value]
        return None if None in items else cast(list[str], items)

    def integer(self, key: str, *, minimum: int, required: bool = True) -> int | None:
        value = self.get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, f"expected an integer, got {describe(value)}")
            return None
        if value < minimum:
            self.error(key, f"must be at least {minimum}, got {value}")
            return None
        return value

    def parsed(self, key: str, parse: Callable[[str], T], *, required: bool = True) -> T | None:
        text = self.text(key, required=required)
        return None if text is None else self._apply(key, parse, text)

    def parsed_list(
        self, key: str, parse: Callable[[str], T], *, required: bool = True
    ) -> list[T] | None:
        texts = self.texts(key, required=required)
        if texts is None:
            return None
        values = [self._apply(key, parse, text) for text in texts]
        return None if None in values else cast(list[T], values)

    def _apply(self, key: str, parse: Callable[[str], T], text: str) -> T | None:
        try:
            return parse(text)
        except ValueError as exc:
            self.error(key, str(exc))
            return None
