"""Opt-out keywords on the network's numbers: STOPP, START, HJELP. Pure.

A keyword is the whole message, whatever its letter case and the spaces and punctuation
around it (`Stopp.`, ` stopp `, `«STOPP»`); a sentence that contains the word is not one
(`Stopp å sende meg dette` is a message). They are read on the network number and on a
group's own number only: to a kommune's helpline number the same text is a message to
the person on duty (the safety rule: when in doubt, it is help).

The scope is the number's: STOPP to a group's own number stops that group's messages
(`group:<id>`), STOPP to the network number every info message and the group messages
sent from it (`network`); START lifts the same scope. HJELP (or INFO) says what the
number is, how to stop and start, the kommune's helpline number and the emergency
numbers. The replies are help (`routing.classes`): STOPP never stops its own answer.

On Telegram there is no number: `/stopp` offers a button per scope, `/start` lifts all
of the chat's stops, `/hjelp` (or `/info`) explains.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rota.model import Group
from rota.phones import readable_phone
from routing.buttons import StopScope
from routing.callers import Directory
from routing.classes import NETWORK_SCOPE, group_scope

Keyword = Literal["stop", "start", "help"]

#: Each word that is a keyword on its own, casefolded. STOP is what many people type
#: (and what carriers know); HELP likewise.
WORDS: dict[str, Keyword] = {
    "stopp": "stop",
    "stop": "stop",
    "start": "start",
    "hjelp": "help",
    "help": "help",
    "info": "help",
}

#: The Telegram commands, by name (casefolded, without the slash and any @botname).
COMMANDS: dict[str, Keyword] = {
    "stopp": "stop",
    "stop": "stop",
    "start": "start",
    "hjelp": "help",
    "help": "help",
    "info": "help",
}

EMERGENCY = (
    "Ved fare: ring 112 (politi) eller 113 (ambulanse). Alarmtelefonen for barn og unge: 116 111."
)

#: The label of the Telegram button that stops the `network` scope.
NETWORK_LABEL = "Invitasjoner og meldinger fra nettverket"

# One word, with anything but letters and digits around it (spaces, punctuation, emoji).
_ONE_WORD = re.compile(r"[\W_]*([^\W_]+)[\W_]*")
_COMMAND = re.compile(r"/([A-Za-z]+)(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?", re.DOTALL)


def parse_keyword(body: str) -> Keyword | None:
    """The keyword `body` is, or None when it is anything else (a message)."""
    match = _ONE_WORD.fullmatch(unicodedata.normalize("NFKC", body))
    return WORDS.get(match.group(1).casefold()) if match else None


@dataclass(frozen=True, slots=True)
class Command:
    """A Telegram command of the keywords: `argument` is what follows it (the deep-link
    token of `/start TOKEN`), stripped."""

    keyword: Keyword
    argument: str = ""


def parse_command(text: str) -> Command | None:
    """The keyword command `text` is (`/stopp`, `/start [token]`, `/hjelp`, `/info`, any
    letter case, with or without `@botname`), or None for anything else."""
    match = _COMMAND.fullmatch(text.strip())
    if match is None:
        return None
    keyword = COMMANDS.get(match.group(1).casefold())
    return None if keyword is None else Command(keyword, (match.group(2) or "").strip())


# -- the numbers keywords are read on ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    """A number of the network: its own group's (`group`), or the network number (None)."""

    number: str
    group: Group | None

    @property
    def scope(self) -> str:
        """The opt-out scope STOPP and START to this number change."""
        return NETWORK_SCOPE if self.group is None else group_scope(self.group.id)


def line_of(directory: Directory, dialled: str, body: str = "") -> Line | None:
    """The network line an SMS with `body` to `dialled` reaches; None for a kommune's
    helpline number (there every message is help) and for any other number.

    One exception: with no network number, info goes from the kommune's helpline number
    with «Svar STOPP», so there an exact STOPP or START is the network's keyword (HJELP
    and everything else stays help)."""
    if not dialled:
        return None
    if dialled in directory.helpline_numbers:
        stops = directory.network_number is None and parse_keyword(body) in ("stop", "start")
        return Line(dialled, None) if stops else None
    group = directory.groups_by_number.get(dialled)
    if group is not None:
        return Line(dialled, group)
    return Line(dialled, None) if dialled == directory.network_number else None


@dataclass(frozen=True, slots=True)
class Helpline:
    """Where a reply points for help: a kommune's helpline number and the kommune's name
    (None when the organisation has no such number, or the kommune is not known)."""

    number: str | None
    kommune: str | None


def helpline_for(
    directory: Directory, line: Line, sender: str, default_kommune: str | None
) -> Helpline:
    """The helpline a reply on `line` names: the group's kommune's, else the writer's
    (their foster home's kommune, or whichever kommune an unknown number belongs to),
    else the organisation's first helpline number."""
    kommune = directory.kommuner.get(line.group.kommune) if line.group is not None else None
    if kommune is None:
        kommune = directory.identify(sender, None, default_kommune).kommune
    numbers = kommune.numbers if kommune is not None else ()
    if not numbers:
        numbers = tuple(n for k in directory.kommuner.values() for n in k.numbers)
    known = directory.homes_by_phone.get(sender) is not None or line.group is not None
    return Helpline(
        readable_phone(numbers[0]) if numbers else None,
        kommune.name if kommune is not None and known else None,
    )


# -- what the writer reads (SMS) -----------------------------------------------------------


def _network(helpline: Helpline) -> str:
    where = f" i {helpline.kommune}" if helpline.kommune else ""
    return f"fosterhjemsnettverket{where}"


def _for_help(helpline: Helpline) -> str:
    if helpline.number is None:
        return "Trenger du hjelp, kontakt barnevernstjenesten i kommunen din."
    return f"Trenger du hjelp, ring eller send SMS til {helpline.number}."


def sms_reply(keyword: Keyword, line: Line, helpline: Helpline) -> str:
    """The answer to `keyword` on `line` (stored already: STOPP and START are idempotent,
    so a repeat gets the same answer)."""
    group = line.group
    if keyword == "stop":
        what = (
            f"meldingene fra {group.name}"
            if group is not None
            else f"invitasjoner og gruppemeldinger fra {_network(helpline)}"
        )
        help_ = f" Trenger du hjelp: {helpline.number}." if helpline.number else ""
        return f"Du er meldt av {what}. Svar START for å få dem igjen.{help_}"
    if keyword == "start":
        what = (
            f"meldingene fra {group.name}"
            if group is not None
            else f"invitasjoner og gruppemeldinger fra {_network(helpline)}"
        )
        return f"Du er meldt på igjen og får {what}. Svar STOPP for å melde deg av."
    return (
        f"{_what_this_is(line, helpline)} Svar STOPP for å melde deg av, START for å melde "
        f"deg på igjen. {_for_help(helpline)} {EMERGENCY}"
    )


def _what_this_is(line: Line, helpline: Helpline) -> str:
    if line.group is not None:
        return f"Dette er nummeret til {line.group.name} i Fosterhjemstelefonen."
    return f"Dette nummeret sender invitasjoner og gruppemeldinger fra {_network(helpline)}."


# -- Telegram ------------------------------------------------------------------------------


def group_key(group_id: str) -> str:
    """A group's id as button data carries it: 12 hex digits of its SHA-256, so that any
    id fits Telegram's 64 bytes and a reload that keeps the id keeps the key."""
    return hashlib.sha256(group_id.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class StopOption:
    """One scope a Telegram user may stop, with its button."""

    scope: str
    label: str
    data: str


def telegram_groups(directory: Directory, kind: str, target_id: str) -> tuple[Group, ...]:
    """The groups whose messages reach a linked chat: a foster home's groups, or those a
    person follows as staff."""
    if kind == "foster_home":
        return directory.groups_of(target_id)
    return tuple(g for g in directory.groups.values() if target_id in g.staff)


def stop_options(groups: Sequence[Group]) -> tuple[StopOption, ...]:
    """The buttons `/stopp` offers: each of the chat's groups, then the network (info and
    the messages of groups without a number of their own)."""
    options = [
        StopOption(group_scope(g.id), g.name, StopScope(group_key(g.id)).data) for g in groups
    ]
    options.append(StopOption(NETWORK_SCOPE, NETWORK_LABEL, StopScope(NETWORK_SCOPE).data))
    return tuple(options)


def chosen(choice: StopScope, options: Sequence[StopOption]) -> StopOption | None:
    """The option a tap on `choice` picks among those the chat has now (None: a button of
    a group the chat has left, or data the bot never offered this chat)."""
    return next((o for o in options if o.data == choice.data), None)


TELEGRAM_STOP_PROMPT = (
    "Hva vil du melde deg av? Svar fra vakt og alt som gjelder dine egne henvendelser, "
    "får du alltid."
)

TELEGRAM_STARTED = (
    "Du er meldt på igjen og får invitasjoner og meldinger fra nettverket og gruppene dine "
    "her. Skriv /stopp for å melde deg av."
)


def telegram_stopped(option: StopOption) -> str:
    """Confirms a tap on a `/stopp` button."""
    what = (
        "invitasjoner og meldinger fra nettverket"
        if option.scope == NETWORK_SCOPE
        else f"meldingene fra {option.label}"
    )
    return (
        f"Du er meldt av {what}. Svar fra vakt får du som før. "
        "Skriv /start for å melde deg på igjen."
    )


def telegram_help(kind: str, helpline: str | None) -> str:
    """`/hjelp` to a linked chat: what the bot is, `/stopp` and `/start`, and help."""
    if kind == "person":
        return (
            "Dette er Fosterhjemstelefonen. Her får du varsler om nye henvendelser når du "
            "har vakt, og meldinger fra nettverket og gruppene du følger. /stopp melder deg "
            "av nettverksmeldingene, /start melder deg på igjen; varsler om henvendelser "
            f"får du alltid. {EMERGENCY}"
        )
    call = f" Du kan også ringe eller sende SMS til {helpline}." if helpline else ""
    return (
        "Dette er Fosterhjemstelefonen. Skriv her når du trenger noen å snakke med: vakt "
        "svarer hele døgnet. Her får du også invitasjoner og meldinger fra nettverket og "
        "gruppene dine. /stopp melder deg av dem, /start melder deg på igjen; svar fra "
        f"vakt får du alltid.{call} {EMERGENCY}"
    )
