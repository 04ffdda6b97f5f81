"""What foster parents and staff read in a message conversation, in Norwegian bokmål.

Taushetsplikt: texts name the foster home and kommune, never a child; no function here
takes a child's name. Foster parents only ever see a staff member's first name. Codes are
passed without the hash (`"K7"`); texts show them as `#K7`, the way staff type them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rota.model import ChainEntry

#: Labels of the Telegram inline buttons under a staff notification.
TAKE_BUTTON = "Jeg tar den"
CLOSE_BUTTON = "Lukk"

EMERGENCY = (
    "Er det fare for liv eller helse, ring 113 (ambulanse) eller 112 (politi). "
    "Barn og unge kan ringe Alarmtelefonen for barn og unge på 116 111."
)

NOT_SENT = "Meldingen ble ikke sendt."


def whole_minutes(span: timedelta) -> int:
    """A deadline as whole minutes for a text, rounded up and at least 1."""
    return max(1, -(-int(span.total_seconds()) // 60))


def first_name(name: str) -> str:
    """The first word of a name: all a foster parent is told about a staff member."""
    words = name.split()
    return words[0] if words else name


def _minutes(count: int) -> str:
    return "1 minutt" if count == 1 else f"{count} minutter"


def _sender(foster_home: str | None, kommune: str | None) -> str:
    who = foster_home or "et ukjent nummer"
    return f"{who} ({kommune})" if kommune else who


def _how_to_answer(code: str, telegram: bool) -> str:
    if telegram:
        return (
            f"Trykk «{TAKE_BUTTON}», og svar fosterhjemmet ved å svare på denne meldingen. "
            f"Lukk med «{CLOSE_BUTTON}»."
        )
    return f"Svar med #{code} din tekst. Lukk med #{code} LUKK kategori."


def staff_notification(
    foster_home: str | None, kommune: str | None, body: str, code: str, *, telegram: bool = False
) -> str:
    """The first notification of a new conversation to the person on duty.

    `foster_home` is None for an unknown number; `telegram` picks the Telegram instructions
    (buttons, reply to the message) instead of the SMS grammar."""
    return (
        f"Fosterhjemstelefonen #{code}: Ny melding fra {_sender(foster_home, kommune)}:\n"
        f"«{body}»\n{_how_to_answer(code, telegram)}"
    )


def escalation_notification(
    foster_home: str | None,
    kommune: str | None,
    body: str,
    code: str,
    missed_by: str,
    minutes: int,
    *,
    telegram: bool = False,
) -> str:
    """The notification to the next in the chain after `missed_by` let the deadline pass."""
    return (
        f"Fosterhjemstelefonen #{code}: Melding fra {_sender(foster_home, kommune)}, "
        f"ikke besvart av {missed_by} på {minutes} min:\n"
        f"«{body}»\n{_how_to_answer(code, telegram)}"
    )


def exhausted_alert(
    foster_home: str | None, kommune: str | None, code: str, minutes: int, tried: Sequence[str]
) -> str:
    """To everyone in the chain and the coordinators when nobody has taken a conversation.

    The message itself is left out: coordinators read it in the contact log, where every
    read is recorded."""
    names = ", ".join(tried) if tried else "ingen"
    return (
        f"Fosterhjemstelefonen #{code}: Ingen har tatt meldingen fra "
        f"{_sender(foster_home, kommune)} på {minutes} min. Alle i vaktkjeden er varslet: "
        f"{names}. Ta den med #{code} JA, eller svar med #{code} din tekst."
    )


def receipt(on_duty: ChainEntry | None, minutes: int) -> str:
    """The one automatic receipt to the foster parent, sent for the first message only.

    Names the person on duty by first name only, and only when the chain entry is a person
    (not a fallback number or a team phone without a known carrier)."""
    who = (
        f"{first_name(on_duty.name)} har vakt"
        if on_duty is not None and on_duty.person is not None
        else "Den som har vakt, har fått beskjed"
    )
    return (
        f"Takk, meldingen din er mottatt hos Fosterhjemstelefonen. {who} og svarer deg her, "
        f"vanligvis innen {_minutes(minutes)}. {EMERGENCY}"
    )


def neutral_receipt(minutes: int) -> str:
    """The receipt to a number that is not a registered foster home: anyone can text the
    helpline, so it names nobody on duty, and still gives the emergency numbers."""
    return (
        f"Takk, meldingen din er mottatt hos Fosterhjemstelefonen. Vi svarer deg her, "
        f"vanligvis innen {_minutes(minutes)}. {EMERGENCY}"
    )


def relayed_reply(staff_name: str | None, text: str) -> str:
    """A staff member's answer as the foster parent reads it: first name only, no number."""
    if staff_name:
        return f"{first_name(staff_name)}, Fosterhjemstelefonen: {text}"
    return f"Fosterhjemstelefonen: {text}"


def follow_up(foster_home: str | None, kommune: str | None, body: str, code: str) -> str:
    """A further message from the foster parent, forwarded to whoever has the conversation."""
    return f"#{code} {_sender(foster_home, kommune)}:\n«{body}»\nSvar med #{code} din tekst."


#: Characters of message text a batch notice quotes at most (an SMS holds 1600 in all).
BATCH_QUOTE_LIMIT = 1200


def follow_up_batch(
    foster_home: str | None, kommune: str | None, bodies: Sequence[str], code: str
) -> str:
    """Several further messages in one notice: how many, and their text (staff need it to
    act), quoted up to `BATCH_QUOTE_LIMIT` characters; the rest is in the contact log."""
    if len(bodies) == 1:
        return follow_up(foster_home, kommune, bodies[0], code)
    quoted: list[str] = []
    used = 0
    for body in bodies:
        room = BATCH_QUOTE_LIMIT - used
        if room < 20:
            break
        text = body if len(body) <= room else body[: room - 1].rstrip() + "…"
        quoted.append(f"«{text}»")
        used += len(text)
    rest = len(bodies) - len(quoted)
    more = f"\n… og {rest} til. Les alle i kontaktloggen." if rest else ""
    return (
        f"{len(bodies)} nye meldinger fra {_sender(foster_home, kommune)} i #{code}:\n"
        + "\n".join(quoted)
        + f"{more}\nSvar med #{code} din tekst."
    )


def flood_notification(kommune: str | None, body: str, code: str, *, telegram: bool = False) -> str:
    """The first notice of a line's flood conversation: many unknown numbers this hour."""
    where = f" til {kommune}" if kommune else ""
    return (
        f"Fosterhjemstelefonen #{code}: Mange nye meldinger fra ukjente numre{where} denne "
        f"timen. De samles i #{code}, og hver avsender har fått kvittering. Første melding:\n"
        f"«{body}»\n{_how_to_answer(code, telegram)}"
    )


def flood_alert(kommune: str | None, code: str, cap: int) -> str:
    """To the coordinators, once, when a line's flood conversation opens."""
    where = f" til {kommune}" if kommune else ""
    return (
        f"Fosterhjemstelefonen #{code}: Over {cap} nye henvendelser fra ukjente numre{where} "
        f"denne timen. Nye meldinger fra ukjente numre samles i #{code}. Se kontaktloggen."
    )


def flood_no_reply(code: str) -> str:
    """Staff tried to answer a flood conversation: it has many senders, so nothing is sent."""
    return (
        f"#{code} samler meldinger fra mange ukjente numre og kan ikke besvares samlet. "
        f"Se numrene i kontaktloggen. Ta den med #{code} JA, lukk med #{code} LUKK kategori. "
        f"{NOT_SENT}"
    )


def taken_notice(code: str, foster_home: str | None, kommune: str | None, taker: str) -> str:
    """To the others who were notified: someone has taken the conversation."""
    return (
        f"Fosterhjemstelefonen #{code}: Meldingen fra {_sender(foster_home, kommune)} "
        f"er tatt av {taker}. Du trenger ikke gjøre noe mer."
    )


def taken_by_you(code: str) -> str:
    """Confirms to a staff member that the conversation is theirs now."""
    return f"Du har tatt #{code}. Svar med #{code} din tekst. Lukk med #{code} LUKK kategori."


def moved_notice(code: str, to: str) -> str:
    """To the previously notified person when a shift change moves the conversation."""
    return f"Fosterhjemstelefonen #{code}: Vakten er over, og meldingen er flyttet til {to}."


def several_open(conversations: Sequence[tuple[str, str | None]]) -> str:
    """A bare text from staff with several open conversations: not sent; pick a code.

    `conversations` holds (code, foster home or None) pairs."""
    listed = ", ".join(f"#{code} ({home or 'ukjent nummer'})" for code, home in conversations)
    example = conversations[0][0] if conversations else "K7"
    return (
        f"Du har flere åpne henvendelser, så meldingen ble ikke sendt. Skriv koden først, "
        f"f.eks. «#{example} din tekst». Dine koder: {listed}."
    )


def no_open() -> str:
    """A bare text from staff who have no open conversation."""
    return f"Du har ingen åpne henvendelser. {NOT_SENT}"


def unknown_code(code: str) -> str:
    """A code that is not one of the sender's open conversations."""
    return f"Fant ingen åpen henvendelse med koden #{code}. {NOT_SENT}"


def missing_text(code: str) -> str:
    """A code with nothing after it."""
    return f"Skriv teksten etter koden, f.eks. «#{code} Jeg ringer deg om litt». {NOT_SENT}"


def missing_code() -> str:
    """A message that starts with # but has no valid code."""
    return f"Fant ingen gyldig kode etter #. Skriv f.eks. «#K7 din tekst». {NOT_SENT}"


def empty_message() -> str:
    """A staff message with no text at all."""
    return "Meldingen var tom. Skriv f.eks. «#K7 din tekst»."


def unknown_category(code: str, given: str, categories: Sequence[str]) -> str:
    """`#K7 LUKK x` with an unknown or missing category: nothing closed; the list back."""
    problem = f"ukjent kategori «{given}»" if given else "kategori mangler"
    return (
        f"#{code} er ikke lukket: {problem}. Lukk med #{code} LUKK og én av disse: "
        f"{', '.join(categories)}."
    )


def closed_confirmation(code: str, category: str) -> str:
    """Confirms a closed conversation to the staff member who closed it."""
    return f"#{code} er lukket med kategori «{category}». Takk!"


def unknown_telegram_user() -> str:
    """To a Telegram user who is not linked: how to get linked, and nothing else."""
    return (
        "Hei! Dette er Fosterhjemstelefonen. Vi kjenner ikke igjen Telegram-kontoen din, "
        "så vi kan ikke ta imot meldinger her ennå. Be barnevernstjenesten eller "
        "koordinatoren din om en lenke for å koble kontoen til. Til da kan du ringe eller "
        f"sende SMS til Fosterhjemstelefonen. {EMERGENCY}"
    )


def telegram_link_sms(url: str, expires_at: datetime, timezone: str = "Europe/Oslo") -> str:
    """The SMS carrying a one-time Telegram deep link; `expires_at` is shown in local time."""
    if expires_at.utcoffset() is None:
        raise ValueError("expires_at must be an aware datetime")
    local = expires_at.astimezone(ZoneInfo(timezone))
    when = f"{local:%d.%m.%Y} kl. {local:%H:%M}"
    return (
        f"Åpne denne lenken for å koble Telegram til Fosterhjemstelefonen: {url}. "
        f"Lenken virker én gang og går ut {when}."
    )


def linked(kind: str) -> str:
    """After a deep link connected a Telegram account."""
    if kind == "person":
        return (
            "Telegram er nå koblet til Fosterhjemstelefonen. Du får varsler om nye meldinger "
            "her når du har vakt."
        )
    return (
        "Telegram er nå koblet til Fosterhjemstelefonen. Skriv her når du trenger noen å "
        f"snakke med, hele døgnet. {EMERGENCY}"
    )


def link_invalid() -> str:
    """A deep link that is unknown, used or expired."""
    return (
        "Lenken er ugyldig, allerede brukt eller utløpt. Be barnevernstjenesten om en ny lenke. "
        f"{EMERGENCY}"
    )
