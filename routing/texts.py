"""What callers and staff hear and read, in Norwegian bokmål.

Taushetsplikt: texts name the foster home and kommune, never a child, and never say why
someone called.
"""

from __future__ import annotations

from datetime import datetime

EMERGENCY = (
    "Er det fare for liv eller helse, legg på og ring 113 for ambulanse eller 112 for politi."
)


def caller_label(foster_home: str | None) -> str:
    """How staff hear a caller named: the foster home, or an unknown number."""
    return foster_home or "Et ukjent nummer"


def greeting(kommune: str | None) -> str:
    """The first thing a caller hears."""
    where = f" for {kommune}" if kommune else ""
    return (
        "Hei, du har ringt Fosterhjemstelefonen. "
        f"Vi setter deg over til den som har vakt{where} nå. {EMERGENCY}"
    )


def fallback_greeting() -> str:
    """The greeting when the service cannot look anything up (database or Redis down)."""
    return f"Hei, du har ringt Fosterhjemstelefonen. Vi setter deg over nå. {EMERGENCY}"


def trying_next() -> str:
    """Said to the caller between two attempts."""
    return "Vi prøver den neste som har vakt. Bli i telefonen."


def whisper(foster_home: str | None, kommune: str | None) -> str:
    """Heard by the staff member who picks up, before the call is connected."""
    where = f" i {kommune}" if kommune else ""
    return (
        f"Fosterhjemstelefonen. {caller_label(foster_home)}{where} ringer. "
        "Trykk 1 for å ta samtalen."
    )


def whisper_no_key() -> str:
    return "Ingen tast registrert. Samtalen går videre til neste som har vakt."


def whisper_connecting() -> str:
    return "Du kobles til nå."


def voicemail_prompt() -> str:
    return (
        "Beklager, ingen kunne ta telefonen akkurat nå. Legg igjen en beskjed etter "
        "pipetonen, så ringer vi deg tilbake så snart vi kan. " + EMERGENCY
    )


def voicemail_thanks() -> str:
    return "Takk. Beskjeden er mottatt, og den som har vakt får beskjed nå. Ha det bra."


def no_service() -> str:
    """When there is nobody at all to ring: the emergency numbers, at least."""
    return (
        "Hei, du har ringt Fosterhjemstelefonen. Vi får dessverre ikke satt deg over nå. "
        "Er det fare for liv eller helse, ring 113 for ambulanse eller 112 for politi. "
        "Barn og unge kan ringe Alarmtelefonen på 116 111."
    )


def voicemail_sms(foster_home: str | None, kommune: str | None, at: datetime, callback: str) -> str:
    """SMS to everyone in the chain after a voicemail; `at` in local time."""
    where = f" ({kommune})" if kommune else ""
    return (
        f"Fosterhjemstelefonen: {caller_label(foster_home)}{where} ringte kl. {at:%H:%M} "
        f"uten å nå noen og la igjen en talebeskjed. Ring tilbake snarest: {callback}"
    )
