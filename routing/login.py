"""Console login by one-time SMS code: the rules, pure.

A person types their registered phone number and gets a six-digit code by SMS (help
class: never held). The code is valid for `CODE_TTL` and takes `MAX_TRIES` guesses; a
fresh code replaces the old one. The service keeps the challenge (the code's hash, when
it was issued, the tries used) and hands it in with the time; these functions decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from rota.model import Organisation, Person

CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5
CODE_DIGITS = 6


@dataclass(frozen=True, slots=True)
class Challenge:
    """A code sent to a number: its hash, who it logs in, when it was issued."""

    digest: str
    person: str
    issued_at: datetime


Refusal = Literal["missing", "expired", "locked"]


def before_try(challenge: Challenge | None, tries: int, now: datetime) -> Refusal | None:
    """May the code be checked now, with `tries` the number of this guess (1 for the
    first)? None: check it; else why not (no code asked for, too old, too many tries)."""
    if challenge is None:
        return "missing"
    if now >= challenge.issued_at + CODE_TTL or now < challenge.issued_at:
        return "expired"
    if tries > MAX_TRIES:
        return "locked"
    return None


def after_wrong(tries: int) -> Literal["wrong", "locked"]:
    """A wrong guess, the `tries`-th: the last one allowed locks the code."""
    return "locked" if tries >= MAX_TRIES else "wrong"


def tries_left(tries: int) -> int:
    return max(0, MAX_TRIES - tries)


def well_formed_code(text: str) -> str | None:
    """The code as typed, spaces allowed ("123 456"); None unless six digits."""
    digits = "".join(text.split())
    if len(digits) != CODE_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def login_person(org: Organisation, phone: str) -> Person | None:
    """Whom a code to `phone` logs in: the one person registered with it. A number two
    people share logs in no one (it cannot say who is logging in)."""
    people = [p for p in org.people if p.phone == phone]
    return people[0] if len(people) == 1 else None


def code_text(code: str) -> str:
    """The SMS with the code. It names no one, so a shared phone tells nothing."""
    return (
        f"Koden din til Fosterhjemstelefonen er {code}. Den gjelder i "
        f"{int(CODE_TTL.total_seconds() // 60)} minutter. Ikke del den med noen."
    )
