"""What foster parents and staff read in a message conversation: Norwegian, and discreet."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from rota.model import ChainEntry
from routing import message_texts as mt
from routing.replies import DEFAULT_CATEGORIES
from tests.unit.rota_fixtures import FALLBACK, utc

KARI = ChainEntry("primary", "asker-bvt", "kari", "Kari Nordmann", "+4791234567")
TEAM_PHONE = ChainEntry("primary", "bvv-vest", None, "Barnevernvakta Vest", "+4792000000")
HOME = "Familien Hansen"
KOMMUNE = "Asker"
BODY = "Det har vært en tung kveld. Kan noen ringe meg?"
CHILD = "Emma"  # a foster child's name: it must never reach a text
EXPIRES = utc(2026, 3, 25, 13, 30)


def all_texts() -> dict[str, str]:
    """Every text, built from inputs that mention no child."""
    return {
        "staff_notification": mt.staff_notification(HOME, KOMMUNE, BODY, "K7"),
        "staff_notification_telegram": mt.staff_notification(
            HOME, KOMMUNE, BODY, "K7", telegram=True
        ),
        "staff_notification_unknown": mt.staff_notification(None, KOMMUNE, BODY, "K8"),
        "escalation": mt.escalation_notification(HOME, KOMMUNE, BODY, "K7", "Kari", 10),
        "escalation_telegram": mt.escalation_notification(
            HOME, KOMMUNE, BODY, "K7", "Kari", 10, telegram=True
        ),
        "exhausted": mt.exhausted_alert(HOME, KOMMUNE, "K7", 40, ["Kari", "Ola", "Nina"]),
        "receipt": mt.receipt(KARI, 10),
        "receipt_nobody_named": mt.receipt(FALLBACK, 10),
        "neutral_receipt": mt.neutral_receipt(10),
        "relayed_reply": mt.relayed_reply("Kari Nordmann", "Jeg ringer deg om fem minutter."),
        "relayed_reply_unnamed": mt.relayed_reply(None, "Jeg ringer deg om fem minutter."),
        "follow_up": mt.follow_up(HOME, KOMMUNE, BODY, "K7"),
        "taken_notice": mt.taken_notice("K7", HOME, KOMMUNE, "Ola Hansen"),
        "taken_by_you": mt.taken_by_you("K7"),
        "moved_notice": mt.moved_notice("K7", "Per Berg"),
        "several_open": mt.several_open([("K7", HOME), ("K9", None)]),
        "no_open": mt.no_open(),
        "unknown_code": mt.unknown_code("K7"),
        "missing_text": mt.missing_text("K7"),
        "missing_code": mt.missing_code(),
        "empty_message": mt.empty_message(),
        "unknown_category": mt.unknown_category("K7", "fotball", DEFAULT_CATEGORIES),
        "missing_category": mt.unknown_category("K7", "", DEFAULT_CATEGORIES),
        "closed": mt.closed_confirmation("K7", "skole"),
        "unknown_telegram_user": mt.unknown_telegram_user(),
        "telegram_link": mt.telegram_link_sms("https://t.me/fosterhjem_bot?start=abc123", EXPIRES),
    }


TEXTS = all_texts()
NORWEGIAN = re.compile(r"\b(og|er|med|du|på|av|ikke|har|fra|til|deg|din|en|ble|vakt)\b")
ENGLISH = re.compile(r"\b(the|and|you|your|please|reply|message|from|with|is)\b", re.I)


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_every_text_is_norwegian_and_complete(name: str) -> None:
    text = TEXTS[name]
    assert NORWEGIAN.search(text), text
    assert not ENGLISH.search(text), text
    assert "{" not in text and "}" not in text
    assert "None" not in text


@pytest.mark.parametrize(
    "relay",
    [
        lambda body: mt.staff_notification(HOME, KOMMUNE, body, "K7"),
        lambda body: mt.staff_notification(HOME, KOMMUNE, body, "K7", telegram=True),
        lambda body: mt.escalation_notification(HOME, KOMMUNE, body, "K7", "Kari", 10),
        lambda body: mt.escalation_notification(
            HOME, KOMMUNE, body, "K7", "Kari", 10, telegram=True
        ),
        lambda body: mt.follow_up(HOME, KOMMUNE, body, "K7"),
    ],
    ids=["notification", "notification_telegram", "escalation", "escalation_telegram", "follow_up"],
)
def test_a_child_named_by_a_foster_parent_stays_inside_the_quoted_message(
    relay: Callable[[str], str],
) -> None:
    # The service holds no child: a child's name can only come in a foster parent's own
    # words, the one free text these texts take. It reaches the staff on duty as the quote
    # itself and nowhere else in the text (no preview, no subject line). The texts that
    # take no message body cannot carry it; the exhausted alert leaves the message out.
    body = f"{CHILD} har rømt igjen og svarer ikke på telefonen. Kan noen ringe meg?"
    text = relay(body)
    assert f"«{body}»" in text
    assert text.count(CHILD) == 1


def test_the_receipt_names_the_person_on_duty_by_first_name_with_emergency_numbers() -> None:
    text = TEXTS["receipt"]
    assert "Kari har vakt" in text
    assert "Nordmann" not in text and KARI.phone not in text
    assert "innen 10 minutter" in text
    for number in ("113", "112", "116 111"):
        assert number in text


@pytest.mark.parametrize("entry", [FALLBACK, TEAM_PHONE, None], ids=["fallback", "team", "none"])
def test_the_receipt_names_nobody_when_the_duty_is_not_a_person(entry: ChainEntry | None) -> None:
    text = mt.receipt(entry, 1)
    assert "Den som har vakt" in text
    assert "Reservenummer" not in text and "Barnevernvakta" not in text
    assert "innen 1 minutt." in text
    assert "113" in text and "112" in text and "116 111" in text


def test_the_neutral_receipt_names_nobody_and_gives_the_emergency_numbers() -> None:
    text = TEXTS["neutral_receipt"]
    assert "vakt" not in text and "Kari" not in text
    assert "innen 10 minutter" in text
    for number in ("113", "112", "116 111"):
        assert number in text


def test_the_staff_notification_tells_who_wrote_what_and_how_to_answer() -> None:
    text = TEXTS["staff_notification"]
    assert "Familien Hansen (Asker)" in text
    assert f"«{BODY}»" in text
    assert text.endswith("Svar med #K7 din tekst. Lukk med #K7 LUKK kategori.")
    assert "ukjent nummer (Asker)" in TEXTS["staff_notification_unknown"]
    assert f"«{mt.TAKE_BUTTON}»" in TEXTS["staff_notification_telegram"]


def test_the_escalation_says_who_did_not_answer_in_how_long() -> None:
    text = TEXTS["escalation"]
    assert "ikke besvart av Kari på 10 min" in text
    assert f"«{BODY}»" in text and "#K7 LUKK kategori" in text


def test_the_exhausted_alert_names_the_chain_but_not_the_message() -> None:
    text = TEXTS["exhausted"]
    assert "Kari, Ola, Nina" in text and "40 min" in text and "#K7" in text
    assert BODY not in text


def test_foster_parents_see_only_a_first_name_on_a_reply() -> None:
    assert TEXTS["relayed_reply"] == "Kari, Fosterhjemstelefonen: Jeg ringer deg om fem minutter."
    assert TEXTS["relayed_reply_unnamed"].startswith("Fosterhjemstelefonen: ")


def test_the_help_texts_list_codes_and_categories() -> None:
    assert "#K7 (Familien Hansen), #K9 (ukjent nummer)" in TEXTS["several_open"]
    assert "ikke sendt" in TEXTS["several_open"]
    for category in DEFAULT_CATEGORIES:
        assert category in TEXTS["unknown_category"]
    assert "«fotball»" in TEXTS["unknown_category"]
    assert "kategori mangler" in TEXTS["missing_category"]
    assert "«skole»" in TEXTS["closed"] and "#K7" in TEXTS["closed"]
    assert "Ola Hansen" in TEXTS["taken_notice"]


def test_the_unknown_telegram_user_learns_how_to_get_linked_and_nothing_else() -> None:
    text = TEXTS["unknown_telegram_user"]
    assert "lenke" in text and "barnevernstjenesten" in text
    assert "113" in text and "112" in text and "116 111" in text
    assert "mottatt" not in text  # nothing was passed on


@pytest.mark.parametrize(
    ("expires", "when"),
    [
        (EXPIRES, "25.03.2026 kl. 14:30"),  # CET
        (utc(2026, 7, 1, 21, 45), "01.07.2026 kl. 23:45"),  # CEST
        (utc(2026, 12, 31, 23, 30), "01.01.2027 kl. 00:30"),
    ],
)
def test_the_telegram_link_sms(expires: datetime, when: str) -> None:
    assert mt.telegram_link_sms("https://t.me/bot?start=abc", expires) == (
        "Åpne denne lenken for å koble Telegram til Fosterhjemstelefonen: "
        "https://t.me/bot?start=abc. Lenken virker én gang og går ut " + when + "."
    )


def test_the_telegram_link_sms_refuses_a_naive_expiry() -> None:
    naive = datetime(2026, 3, 25, 14, 30)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError):
        mt.telegram_link_sms("https://t.me/bot?start=abc", naive)


@pytest.mark.parametrize(
    ("span", "minutes"),
    [
        (timedelta(minutes=10), 10),
        (timedelta(seconds=90), 2),
        (timedelta(seconds=1), 1),
        (timedelta(0), 1),
        (timedelta(hours=1), 60),
    ],
)
def test_whole_minutes(span: timedelta, minutes: int) -> None:
    assert mt.whole_minutes(span) == minutes


@pytest.mark.parametrize(
    ("name", "first"), [("Kari Nordmann", "Kari"), ("  Ola  ", "Ola"), ("Per", "Per"), ("", "")]
)
def test_first_name(name: str, first: str) -> None:
    assert mt.first_name(name) == first
