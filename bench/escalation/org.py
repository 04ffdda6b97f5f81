"""The organisation the escalation benchmark loads: the demo one with a short deadline and
one generated foster home per conversation."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from bench.harness import BenchError
from helpline.commands.org import demo_text
from rota.engine import Rota
from rota.orgfile import parse_org
from rota.phones import InvalidPhone, normalise_phone

BENCH_HOME_PREFIX = "bench-"
FIRST_BENCH_NUMBER = 96_000_000  # +4796000000 upwards: Norwegian mobile numbers


@dataclass(frozen=True, slots=True)
class BenchHome:
    """A generated foster home: who writes, and which helpline number they text."""

    id: str
    phone: str
    kommune: str
    line: str


def bench_phones(count: int, reserved: Collection[str]) -> list[str]:
    """`count` distinct valid Norwegian mobile numbers (E.164), none of them `reserved`."""
    phones: list[str] = []
    for n in range(FIRST_BENCH_NUMBER, 100_000_000):
        if len(phones) == count:
            return phones
        phone = f"+47{n}"
        if phone in reserved:
            continue
        try:
            if normalise_phone(phone) == phone:
                phones.append(phone)
        except InvalidPhone:
            continue
    if len(phones) == count:
        return phones
    raise ValueError(f"cannot make {count:,} numbers from +47{FIRST_BENCH_NUMBER} upwards")


def with_deadline(text: str, deadline_s: int) -> str:
    """`text` (a rota file) with `message_deadline` set to `deadline_s` seconds."""
    if deadline_s < 1:
        raise ValueError("the deadline must be at least 1 s")
    pattern = re.compile(r'^message_deadline\s*=\s*"[^"]*"', re.MULTILINE)
    changed, n = pattern.subn(f'message_deadline = "{deadline_s}s"', text)
    if n != 1:
        raise ValueError(f"expected one message_deadline line, found {n}")
    return changed


def bench_org(count: int, deadline_s: int, base: str | None = None) -> tuple[str, list[BenchHome]]:
    """The rota file to load: `base` (the demo organisation) with the deadline set and
    `count` extra foster homes, round-robin over its kommuner; and those homes."""
    text = with_deadline(demo_text() if base is None else base, deadline_s)
    org = parse_org(text)
    reserved = {org.helpline.fallback_phone}
    reserved |= {p.phone for p in org.people}
    reserved |= {t.duty_phone for t in org.teams if t.duty_phone}
    reserved |= {n for k in org.kommuner for n in k.numbers}
    reserved |= {n for h in org.foster_homes for n in h.phones}
    kommuner = [k for k in org.kommuner if k.numbers]
    if not kommuner:
        raise ValueError("the organisation has no kommune with a helpline number")
    width = max(4, len(str(count)))
    homes = [
        BenchHome(f"{BENCH_HOME_PREFIX}{i + 1:0{width}d}", phone, k.id, k.numbers[0])
        for i, phone in enumerate(bench_phones(count, reserved))
        for k in [kommuner[i % len(kommuner)]]
    ]
    entries = [_home_entry(h) for h in homes]
    return text.rstrip("\n") + "\n" + "".join(entries), homes


def _home_entry(home: BenchHome) -> str:
    number = home.id.removeprefix(BENCH_HOME_PREFIX)
    return (
        f'\n[[foster_home]]\nid = "{home.id}"\nname = "Benkfamilie {number}"\n'
        f'kommune = "{home.kommune}"\nphones = ["{home.phone}"]\n'
    )


def check_chains(text: str, at: datetime, within: timedelta) -> None:
    """Refuse an organisation whose chains could repeat a phone while the run lasts: the
    analysis tells step 2 from step 3 by the recipient."""
    org = parse_org(text)
    rota = Rota(org)
    for kommune in org.kommuner:
        for instant in (at, at + within):
            phones = [entry.phone for entry in rota.on_duty(kommune.id, instant)]
            if len(phones) < 2 or len(set(phones)) != len(phones):
                raise BenchError(
                    f"the chain of {kommune.id} at {instant:%H:%M} has {len(phones)} steps "
                    f"or repeats a phone: cannot tell escalations apart"
                )
