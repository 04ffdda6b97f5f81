"""The Telefonsimulator's phones and what a simulated call shows on each of them.

Pure: the organisation and the user's scope in, the virtual phones out; a call's
transcript lines (`helpline.simulator`, English, one line per event) in, Norwegian events
per phone out. A line this table does not know is left off the phones (the whole
transcript stays on the page, under the caller's phone, for the curious).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rota.model import Organisation
from routing.access import Scope


@dataclass(frozen=True, slots=True)
class Phone:
    """One virtual phone: a foster parent's, a staff member's, a team's duty phone."""

    slug: str  # for the page's anchors and field ids
    number: str  # E.164
    title: str  # who holds it
    subtitle: str  # what they are
    kommune: str | None  # a foster home's: the helpline numbers to offer first


@dataclass(frozen=True, slots=True)
class Line:
    """A number of the service that a phone can text or ring."""

    number: str
    label: str


def service_lines(org: Organisation) -> tuple[Line, ...]:
    """The kommuner's helpline numbers, the network number and the groups' own numbers."""
    lines = [Line(n, f"Hjelpetelefonen for {k.name}") for k in org.kommuner for n in k.numbers]
    if org.helpline.network_number:
        lines.append(Line(org.helpline.network_number, "Nettverksnummeret"))
    lines += [Line(g.number, g.name) for g in org.groups if g.number]
    return tuple(lines)


def phones(org: Organisation, scope: Scope) -> tuple[Phone, ...]:
    """The phones this user may play: the foster homes of their kommuner (one phone per
    number), the staff of the teams serving them and those teams' duty phones; an admin
    also the people in no team and the fallback number. Each number once."""
    kommuner = {k.id: k.name for k in org.kommuner}
    teams = [t for t in org.teams if any(scope.allows(k) for k in t.kommuner)]
    team_names = {t.id: t.name for t in teams}
    found: list[Phone] = []
    for home in org.foster_homes:
        if not scope.allows(home.kommune):
            continue
        for index, number in enumerate(home.phones, 1):
            which = f", telefon {index}" if len(home.phones) > 1 else ""
            subtitle = f"Fosterhjem i {kommuner[home.kommune]}{which}"
            found.append(Phone(f"fh-{home.id}-{index}", number, home.name, subtitle, home.kommune))
    for person in org.people:
        names = [team_names[t] for t in person.teams if t in team_names]
        if names or (scope.role == "admin" and not person.teams):
            subtitle = ", ".join(names) or "Ikke i noe team"
            found.append(Phone(f"p-{person.id}", person.phone, person.name, subtitle, None))
    for team in teams:
        if team.duty_phone:
            title = f"Vakttelefonen til {team.name}"
            found.append(
                Phone(f"t-{team.id}", team.duty_phone, title, "Bæres av den som har vakt", None)
            )
    if scope.role == "admin":
        fallback = org.helpline.fallback_phone
        found.append(Phone("reserve", fallback, "Reservenummeret", "Sist i hver vaktkjede", None))
    unique: dict[str, Phone] = {}
    for phone in found:
        unique.setdefault(phone.number, phone)
    return tuple(unique.values())


_QUOTE = r'"(?P<text>.*)"'
_N = r"(?P<n>\+\d+)"
#: (pattern of a transcript line, who sees it: "caller" or "n", the Norwegian text)
_CALL_LINES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), who, text)
    for pattern, who, text in (
        (r"^call from \S+ to (?P<n>\S+)$", "caller", "Du ringer {n}."),
        (rf"^caller hears \([^)]*\): {_QUOTE}", "caller", "Du hører: «{text}»"),
        (r"^caller hears a beep$", "caller", "Du hører et pip."),
        (r"^caller leaves a voicemail", "caller", "Du legger igjen en talemelding."),
        (rf"^caller connected to {_N}", "caller", "Du er koblet til {n}."),
        (r"^caller presses (?P<d>\S+)", "caller", "Du trykker {d}."),
        (r"^call rejected", "caller", "Anropet blir avvist."),
        (r"^APPLICATION ERROR", "caller", "Tjenesten svarte med en feil."),
        (r"^call ended", "caller", "Samtalen er slutt."),
        (rf"^ringing {_N}", "n", "Telefonen ringer: et anrop fra hjelpetelefonen."),
        (rf"^{_N} picks up$", "n", "Du tar telefonen."),
        (rf"^{_N} hears \([^)]*\): {_QUOTE}", "n", "Du hører: «{text}»"),
        (rf"^{_N} presses nothing", "n", "Du trykker ingenting."),
        (rf"^{_N} presses (?P<d>\S+)", "n", "Du trykker {d}."),
        (rf"^{_N} hangs up: declined", "n", "Du legger på uten å ta samtalen."),
        (rf"^no answer from {_N}", "n", "Ubesvart anrop."),
        (rf"^ringing stops at {_N}", "n", "Det slutter å ringe: noen andre tok samtalen."),
    )
)
_CONNECTED = re.compile(rf"^caller connected to {_N}")


def call_events(caller: str, lines: list[str]) -> list[tuple[str, str]]:
    """(phone number, Norwegian text) for each line of a call's transcript that a phone
    would show, in order. The phone that is connected also shows it."""
    events: list[tuple[str, str]] = []
    for line in lines:
        for pattern, who, text in _CALL_LINES:
            match = pattern.search(line)
            if match is None:
                continue
            values = match.groupdict()
            events.append((caller if who == "caller" else values["n"], text.format(**values)))
            break
        connected = _CONNECTED.search(line)
        if connected:
            events.append((connected["n"], "Du er koblet til innringeren."))
    return events
