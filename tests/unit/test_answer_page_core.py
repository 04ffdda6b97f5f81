"""The answer page's core: the form, what the page says, and receipts."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from rota.wallclock import zone
from routing.answer_page import (
    CHOICE_MISSING,
    PEOPLE_INVALID,
    FormAnswer,
    FormErrors,
    confirmed,
    deadline,
    read_form,
    receipt,
    view,
    when,
)
from routing.invitation_texts import EventText
from routing.invitations import (
    AnswerState,
    Closed,
    Coming,
    EventFacts,
    NotComing,
    Reply,
    TooMany,
    Waitlisted,
)
from tests.unit.rota_fixtures import oslo

TZ = zone("Europe/Oslo")
NOW = oslo(2026, 11, 30, 12)
STARTS, ENDS, RSVP_BY = oslo(2026, 12, 10, 18), oslo(2026, 12, 10, 20), oslo(2026, 12, 6)
TEXT = EventText(12, "Fagdag", STARTS, ENDS, "Asker kulturhus", RSVP_BY, TZ)
FACTS = EventFacts(12, STARTS, ENDS, 2, RSVP_BY, False)
INVITED = oslo(2026, 11, 30, 9)


@pytest.mark.parametrize(
    ("choice", "people", "read"),
    [
        ("ja", "2", FormAnswer(True, 2)),
        ("ja", " 20 ", FormAnswer(True, 20)),
        ("nei", "", FormAnswer(False, 0)),
        ("nei", "tre", FormAnswer(False, 0)),  # the number is only for ja
        ("ja", "21", FormErrors(None, PEOPLE_INVALID, "ja", "21")),
        ("ja", "0", FormErrors(None, PEOPLE_INVALID, "ja", "0")),
        ("ja", "", FormErrors(None, PEOPLE_INVALID, "ja", "")),
        ("ja", "٣", FormErrors(None, PEOPLE_INVALID, "ja", "٣")),  # digits, but not ours
        ("ja", "99999999999", FormErrors(None, PEOPLE_INVALID, "ja", "99999999999")),
        (None, "2", FormErrors(CHOICE_MISSING, None, None, "2")),
        ("kanskje", "2", FormErrors(CHOICE_MISSING, None, None, "2")),
    ],
)
def test_the_form(choice: str | None, people: str, read: FormAnswer | FormErrors) -> None:
    assert read_form(choice, people) == read


def test_when_and_the_deadline() -> None:
    assert when(TEXT) == "torsdag 10. desember kl. 18:00–20:00"
    two_days = replace(TEXT, ends=oslo(2026, 12, 11, 15))
    assert when(two_days) == "torsdag 10. desember kl. 18:00 – fredag 11. desember kl. 15:00"
    assert deadline(TEXT) == "lørdag 5. desember"  # midnight: the end of the day before
    assert deadline(replace(TEXT, rsvp_by=oslo(2026, 12, 4, 14))) == "fredag 4. desember kl. 14:00"


def test_the_page_of_a_home_on_the_waitlist_with_an_offer() -> None:
    replies = [
        Reply("a", INVITED, "yes", 1),
        Reply("b", INVITED, "waitlist", 1, queue=3, offer_until=NOW + timedelta(hours=24)),
        Reply("c", INVITED, "waitlist", 2, queue=4),
    ]
    shown = view(TEXT, "fagdag", FACTS, replies, "b", NOW)
    assert shown.status.startswith("Dere står som nr. 1 på ventelisten (1 person).")
    assert shown.offer == (
        "Det er blitt ledig plass til dere. Vil dere ha plassen, svar ja innen kl. 12:00 i morgen."
    )
    assert (shown.kind, shown.closed, shown.notices, shown.chosen) == ("Fagdag", None, (), "ja")
    other = view(TEXT, "fagdag", FACTS, replies, "c", NOW)
    assert other.status.startswith("Dere står som nr. 2 på ventelisten (2 personer).")
    assert other.notices == ("Det er fullt nå. Svarer dere ja, kommer dere på ventelisten.",)
    assert other.people == 2


def test_late_cancelled_and_begun() -> None:
    replies = [Reply("a", INVITED)]
    late = view(TEXT, "fagdag", FACTS, replies, "a", oslo(2026, 12, 7, 9))
    assert late.notices[0].startswith("Svarfristen er ute, men dere kan fortsatt svare")
    cancelled = view(TEXT, "fagdag", replace(FACTS, cancelled=True), replies, "a", NOW, " Syk. ")
    assert cancelled.closed == "Fagdag er avlyst. Syk. Vi tar ikke imot svar."
    begun = view(TEXT, "fagdag", FACTS, replies, "a", STARTS)
    assert begun.closed == "Fagdag har allerede begynt, så vi tar ikke imot flere svar."
    assert view(TEXT, "fagdag", FACTS, replies, "a", NOW).status == "Dere har ikke svart ennå."


@pytest.mark.parametrize(
    ("outcome", "answer", "code"),
    [
        (Coming(2, False), "yes", "ja"),
        (Coming(2, True, changed=True), "yes", "endret-sent"),
        (Waitlisted(1, 2, False), "waitlist", "venteliste"),
        (Waitlisted(1, 2, True, already=True), "waitlist", "fortsatt-sent"),
        (NotComing(False), "no", "nei"),
    ],
)
def test_a_receipt_gives_back_its_outcome(
    outcome: Coming | Waitlisted | NotComing, answer: AnswerState, code: str
) -> None:
    people = 0 if answer == "no" else 2
    replies = [Reply("a", INVITED, answer, people, queue=1 if answer == "waitlist" else None)]
    assert receipt(outcome) == code
    assert confirmed(code, replies, "a") == outcome


def test_a_receipt_that_does_not_agree_shows_nothing() -> None:
    assert receipt(TooMany(2)) is None and receipt(Closed("over")) is None
    said_no = [Reply("a", INVITED, "no", 0)]
    assert confirmed("ja", said_no, "a") is None
    assert confirmed("venteliste", said_no, "a") is None
    assert confirmed("<script>", said_no, "a") is None
