"""What members and staff of a group read, in Norwegian bokmål. Pure.

A relay names the writer as the group knows them: a foster home by its name in the
register ("Familien Hansen"), a staff member by name and kommune. Never a phone number,
never a child. Telegram relays, and SMS from the shared network number, carry the
group's name in front, so a reader in several groups sees which one it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from rota.model import Group
from routing.message_texts import EMERGENCY

#: Twilio takes at most 1,600 characters in one message; Telegram 4,096.
MAX_CHARS = {"sms": 1600, "telegram": 4096}
TAUSHETSPLIKT = "Husk taushetsplikten: ikke skriv navn eller detaljer om barna."


def staff_label(name: str, kommune: str | None) -> str:
    """How a staff member is named in a relay: "Kari Nordmann (Asker kommune)"."""
    return f"{name} ({kommune} kommune)" if kommune else name


def relay(group: Group, author: str, text: str, channel: str, *, marked: bool) -> str:
    """A relayed message; `marked`: with the group's name in front (always on Telegram).
    A text too long for the channel is cut, with an ellipsis."""
    head = f"[{group.name}] " if marked or channel == "telegram" else ""
    head += f"{author}: "
    room = MAX_CHARS.get(channel, MAX_CHARS["sms"]) - len(head)
    if len(text) > room:
        text = text[: room - 1].rstrip() + "…"
    return head + text


def _help(helpline: str | None) -> str:
    where = f" på {helpline}" if helpline else ""
    return f"Trenger du noen å snakke med, ring eller send SMS til Fosterhjemstelefonen{where}."


def not_member(group: Group, helpline: str | None) -> str:
    """To someone outside the group who wrote to its number: whose number it is."""
    return (
        f"Hei! Dette nummeret hører til {group.name}, en gruppe for fosterhjem. Meldinger "
        "hit går bare mellom gruppens medlemmer, så meldingen din er ikke sendt videre. "
        f"{_help(helpline)} {EMERGENCY}"
    )


def network_info(helpline: str | None) -> str:
    """To someone in no group who wrote to the network number: what the number is."""
    return (
        "Hei! Dette er nettverksnummeret til Fosterhjemstelefonen. Herfra kommer meldinger "
        "i fosterhjemsgrupper og invitasjoner til nettverkstreff og fagdager. Meldingen din "
        f"er ikke sendt videre. {_help(helpline)} {EMERGENCY}"
    )


def codes(groups: Sequence[Group]) -> str:
    """The writer's groups, one a line, with their `#G` codes."""
    return "\n".join(f"#G{n} {group.name}" for n, group in enumerate(groups, start=1))


def choose_group(groups: Sequence[Group], helpline: str | None) -> str:
    """Which group was meant is not clear: the codes, and that nothing was sent."""
    return (
        "Du er med i flere grupper, så meldingen er ikke sendt. Start med gruppens kode, "
        f"f.eks. «#G1 Hei alle»:\n{codes(groups)}\n{_help(helpline)}"
    )


def group_list(groups: Sequence[Group]) -> str:
    """`/grupper` on Telegram."""
    if not groups:
        return (
            "Du er ikke med i noen grupper. Meldinger du skriver her går til Fosterhjemstelefonen."
        )
    return (
        f"Gruppene dine:\n{codes(groups)}\nSkriv til en gruppe ved å svare på en melding "
        "fra den, eller med «#G1 din tekst». Andre meldinger her går til "
        "Fosterhjemstelefonen."
    )


def empty(group: Group) -> str:
    return f"Meldingen var tom, så ingenting er sendt til {group.name}."


def muted(group: Group, helpline: str | None) -> str:
    """To a muted member, once: their messages are kept from the group."""
    return (
        f"Meldingene dine til {group.name} blir ikke sendt videre til gruppen nå. Spør dem "
        f"som følger gruppen hvis du lurer på hvorfor. {_help(helpline)}"
    )


def _names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} og {names[-1]}"


def welcome(
    group: Group,
    hub: str | None,
    staff: Sequence[str],
    how: str,
    helpline: str | None,
    channel: str,
) -> str:
    """The one welcome a foster home gets on joining a group: what it is, who follows
    it, how to write to it (`how`, from `how_to_write`), and taushetsplikt."""
    if group.kind == "ressursfamilie" and hub:
        what = f"{group.name} er en ressursfamilie: {hub} og fosterhjemmene rundt dem."
    else:
        what = f"{group.name} er et nettverk der fosterhjem støtter hverandre."
    follows = f" Gruppen følges av {_names(staff)}." if staff else ""
    head = f"[{group.name}] " if channel == "telegram" else ""
    return (
        f"{head}Velkommen! {what}{follows} {how} Nummeret ditt vises ikke for de andre. "
        f"{TAUSHETSPLIKT} Trenger du hjelp, ring eller skriv til Fosterhjemstelefonen som "
        f"før{f' ({helpline})' if helpline else ''}."
    )


def how_to_write(channel: str, code: int, coded: bool, reachable: bool = True) -> str:
    """How a member writes to the group: on Telegram by replying (or `#G<n>`); by SMS to
    the number the welcome came from, with `#G<n>` in front when `coded` (a shared
    number where the member has several groups). Not `reachable`: the group's SMS come
    from a helpline number (no group or network number is set), where texts are help."""
    if channel == "telegram":
        return (
            f"Svar på en melding fra gruppen, eller skriv «#G{code} din tekst», så får de "
            "andre i gruppen den. /grupper viser gruppene dine."
        )
    if not reachable:
        return "Meldinger fra gruppen kommer hit."
    if coded:
        return f"Skriv til dette nummeret med #G{code} først, så får de andre i gruppen meldingen."
    return "Skriv til dette nummeret, så får de andre i gruppen meldingen."
