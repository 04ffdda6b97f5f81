"""The leak scanner: what no log line may contain, and where a log text contains it.

Pure: it is handed the forbidden values (message bodies, phone numbers, tokens, foster
home names) and the log text, and names each line that carries one of them.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import phonenumbers

from helpline.logs import NOISY_LIBRARIES, configure_logging
from helpline.settings import Settings
from rota.model import Organisation

MIN_BODY = 8  # a shorter "body" ("JA", "Hei") would match ordinary words
MIN_FRAGMENT = 20  # lines of multi-line bodies are checked on their own from this length


@dataclass(frozen=True, slots=True)
class Forbidden:
    """One value no log line may carry, and what it is (for the finding)."""

    kind: str  # "message body", "phone number", "token", "foster home name"
    text: str


@dataclass(frozen=True, slots=True)
class Finding:
    line_number: int
    kind: str
    line: str  # with the value itself replaced by «kind»


def phone_forms(e164: str) -> list[str]:
    """A number as it could show up unmasked: E.164, without the `+`, and national."""
    number = phonenumbers.parse(e164, None)
    return [e164, e164[1:], phonenumbers.national_significant_number(number)]


def register_values(org: Organisation) -> list[Forbidden]:
    """Every phone number and foster home name of an organisation."""
    phones = {org.helpline.fallback_phone}
    phones |= {number for kommune in org.kommuner for number in kommune.numbers}
    phones |= {team.duty_phone for team in org.teams if team.duty_phone}
    phones |= {person.phone for person in org.people}
    phones |= {phone for home in org.foster_homes for phone in home.phones}
    return [
        *phones_forbidden(phones),
        *(Forbidden("foster home name", home.name) for home in org.foster_homes),
    ]


def phones_forbidden(phones: Iterable[str]) -> list[Forbidden]:
    return [Forbidden("phone number", form) for phone in phones for form in phone_forms(phone)]


def bodies_forbidden(bodies: Iterable[str]) -> list[Forbidden]:
    """Each body whole, and each of its longer lines on its own."""
    found: list[Forbidden] = []
    for body in bodies:
        if len(body.strip()) >= MIN_BODY:
            found.append(Forbidden("message body", body.strip()))
        lines = [line.strip() for line in body.splitlines()]
        found += [Forbidden("message body", line) for line in lines if len(line) >= MIN_FRAGMENT]
    return found


def tokens_forbidden(tokens: Iterable[str]) -> list[Forbidden]:
    """Tokens; a bot token's secret half (after the colon) on its own too."""
    found: list[Forbidden] = []
    for token in tokens:
        found.append(Forbidden("token", token))
        _, colon, secret = token.partition(":")
        if colon and len(secret) >= MIN_FRAGMENT:
            found.append(Forbidden("token", secret))
    return found


def scan(text: str, forbidden: Iterable[Forbidden]) -> list[Finding]:
    """Every line of `text` that carries a forbidden value (one finding per line and kind)."""
    values = sorted(set(forbidden), key=lambda f: len(f.text), reverse=True)
    findings: list[Finding] = []
    for number, line in enumerate(text.splitlines(), start=1):
        kinds: dict[str, str] = {}
        for value in values:
            if value.text in line:
                kinds.setdefault(value.kind, line.replace(value.text, f"«{value.kind}»"))
        findings += [Finding(number, kind, shown) for kind, shown in kinds.items()]
    return findings


@dataclass
class Capture:
    """What the real logging set-up wrote, and every record's raw message beside it."""

    stream: io.StringIO
    raw: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.stream.getvalue()


class _RawHandler(logging.Handler):
    """Keeps each record's message as it was before the redaction (a control)."""

    def __init__(self, capture: Capture) -> None:
        super().__init__(logging.DEBUG)
        self.capture = capture

    def emit(self, record: logging.LogRecord) -> None:
        self.capture.raw.append(record.getMessage())


@contextmanager
def captured_logging(settings: Settings) -> Iterator[Capture]:
    """The CLI's logging set-up at DEBUG, libraries included, writing to a string; the
    raw messages are kept by a handler that runs before the redacting one. Afterwards the
    process's logging is as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in NOISY_LIBRARIES}
    capture = Capture(io.StringIO())
    raw = _RawHandler(capture)
    root.addHandler(raw)  # before the redacting handler, so it sees records untouched
    configure_logging(settings, verbose=True, stream=capture.stream)
    try:
        yield capture
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)
        for name, library_level in levels.items():
            logging.getLogger(name).setLevel(library_level)
