"""Invitations end to end (issue 10): sent on the paced lane to the fake Twilio and Bot API,
answered by signed SMS webhooks and Telegram button taps; capacity, the waitlist and its
offers, reminders, changes and cancellations, with time passed in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from helpline.db.models import OutboxRow
from helpline.db.register import rotate_feed
from helpline.event_actions import cancel_event, change_event, invite_event
from helpline.events import Change
from helpline.optout import stop
from routing.access import ADMIN
from routing.segments import segments
from tests.e2e.invitation_world import (
    NILSEN_USER,
    PHONES,
    World,
    link_nilsen,
    world,
)
from tests.integration.paced_world import NETWORK
from tests.unit.rota_fixtures import oslo

pytestmark = pytest.mark.e2e
__all__ = ["world"]  # the fixture

HANSEN, JOHANSEN, HAUGEN, NILSEN = (
    PHONES[h][0] for h in ("hansen", "johansen", "haugen", "nilsen")
)


async def test_the_invitation_goes_once_per_home_and_fits_two_segments(world: World) -> None:
    event_id = await world.event()
    await world.send_all()
    sent = world.texts_to(PHONES["hansen"][0]), world.texts_to(PHONES["hansen"][1])
    assert [len(texts) for texts in sent] == [1, 1]
    body = sent[0][0]
    assert body.startswith(
        "Invitasjon: Nettverkstreff i Asker, torsdag 10. desember kl. 18:00-20:00, "
        f"Asker kulturhus. Svar JA {event_id} eller NEI {event_id} innen lørdag 5. desember."
    )
    assert "http://helpline.test/svar/" in body and body.endswith("Svar STOPP for å melde deg av.")
    assert segments(body).count <= 2
    assert sent[1][0] == body  # both phones of a home carry the home's one link
    assert {m.form["From"] for m in world.live.twilio.messages} == {NETWORK}
    loaded = await world.services.organisation()
    assert loaded is not None
    assert await invite_event(world.services, loaded, event_id, None, ADMIN, "test") == 0
    assert await invite_event(world.services, loaded, event_id, "home:olsen", ADMIN, "t") == 1
    await world.send_all()
    assert len(world.texts_to(PHONES["hansen"][0])) == 1  # not again
    assert len(world.texts_to(PHONES["olsen"][0])) == 1
    shown = await world.show(event_id)
    assert (shown["invited"], shown["no_answer"]) == (5, 5)


async def test_capacity_two_waitlist_promotion_and_claim(world: World) -> None:
    event_id = await world.event(capacity=2)
    await world.send_all()
    await world.sms(HANSEN, f"JA {event_id}")
    assert world.last_to(HANSEN).startswith("Takk! Dere er påmeldt Nettverkstreff i Asker")
    await world.sms(JOHANSEN, f"ja {event_id}")
    await world.sms(HAUGEN, f"JA {event_id}")
    assert "Du står som nr. 1 på ventelisten" in world.last_to(HAUGEN)
    await world.sms(NILSEN, f"JA {event_id}")
    assert "Du står som nr. 2 på ventelisten" in world.last_to(NILSEN)
    shown = await world.show(event_id)
    assert (shown["yes"], shown["waitlist"], shown["people_yes"]) == (2, 2, 2)
    assert [a["position"] for a in shown["answers"] if a["answer"] == "waitlist"] == [1, 2]

    await world.sms(JOHANSEN, f"NEI {event_id}")
    assert "ikke kommer" in world.last_to(JOHANSEN)
    await world.send_all()
    offer = world.last_to(HAUGEN)
    assert offer.startswith("Det er blitt ledig plass på Nettverkstreff i Asker")
    assert f"svar JA {event_id} innen kl. 12:00 i morgen" in offer
    assert not any(
        "Det er blitt ledig plass" in t for t in world.texts_to(NILSEN)
    )  # one place, one offer
    # Nilsen, second in line, answers again: the offered place is held for Haugen.
    await world.sms(NILSEN, f"JA {event_id}")
    assert "fortsatt som nr. 2" in world.last_to(NILSEN)
    await world.sms(HAUGEN, f"JA {event_id}")
    assert world.last_to(HAUGEN).startswith("Takk! Dere er påmeldt")
    answers = await world.answers(event_id)
    assert answers == {
        "hansen": ("yes", 1),
        "johansen": ("no", 0),
        "haugen": ("yes", 1),
        "nilsen": ("waitlist", 1),
    }


async def test_an_offer_expires_to_the_next_home(world: World) -> None:
    event_id = await world.event(capacity=1)
    await world.send_all()
    for phone in (HANSEN, JOHANSEN, HAUGEN):
        await world.sms(phone, f"JA {event_id}")
    await world.sms(HANSEN, f"NEI {event_id}")
    await world.send_all()
    assert "Det er blitt ledig plass" in world.last_to(JOHANSEN)
    world.clock.now += timedelta(hours=23, minutes=59)
    await world.sweep()
    assert not any("Det er blitt ledig plass" in t for t in world.texts_to(HAUGEN))
    world.clock.now += timedelta(minutes=1)  # 24 h: the offer ends
    await world.sweep()
    assert world.last_to(JOHANSEN).startswith("Tilbudet om plass på Nettverkstreff i Asker gikk ut")
    assert "Det er blitt ledig plass" in world.last_to(HAUGEN)
    await world.sweep()  # a second run changes nothing and sends nothing
    assert sum("Det er blitt ledig plass" in t for t in world.texts_to(HAUGEN)) == 1
    assert sum("gikk ut" in t for t in world.texts_to(JOHANSEN)) == 1
    await world.sms(HAUGEN, f"JA {event_id}")
    answers = await world.answers(event_id)
    assert answers["haugen"] == ("yes", 1) and answers["johansen"] == ("expired", 1)
    shown = await world.show(event_id)
    assert (shown["yes"], shown["no"], shown["waitlist"]) == (1, 2, 0)


async def test_an_offer_ends_two_hours_before_the_start(world: World) -> None:
    world.clock.now = oslo(2026, 12, 10, 9)  # the morning of the event
    event_id = await world.event(capacity=1, rsvp_by=None)
    await world.send_all()
    await world.sms(HANSEN, f"JA {event_id}")
    await world.sms(JOHANSEN, f"JA {event_id}")
    await world.sms(HANSEN, f"NEI {event_id}")
    await world.send_all()
    assert "innen kl. 16:00 i dag" in world.last_to(JOHANSEN)


async def test_more_people_than_there_is_room_for(world: World) -> None:
    event_id = await world.event(capacity=3)
    await world.send_all()
    await world.sms(HANSEN, f"JA {event_id} 2")
    assert "med 2 personer" in world.last_to(HANSEN)
    await world.sms(JOHANSEN, f"JA {event_id} 3")  # one place left
    assert "Du står som nr. 1 på ventelisten (3 personer)" in world.last_to(JOHANSEN)
    await world.sms(HAUGEN, f"JA {event_id} 4")  # more than there are places at all
    assert world.last_to(HAUGEN).startswith("Nettverkstreff i Asker har plass til 3 personer i alt")
    await world.sms(HANSEN, f"JA {event_id} 3")  # one more for Hansen: the head waits, so no
    assert "ikke plass til flere" in world.last_to(HANSEN)
    await world.sms(HANSEN, f"JA {event_id} 1")  # down to one: two free, the head needs three
    assert world.last_to(HANSEN).startswith("Endret: dere er nå påmeldt")
    await world.send_all()
    shown = await world.show(event_id)
    assert (shown["people_yes"], shown["waitlist"]) == (1, 1)
    assert not any("Det er blitt ledig plass" in t for t in world.texts_to(JOHANSEN))
    await world.sms(HAUGEN, f"JA {event_id} 2")  # fits, but Johansen waits ahead: waitlist
    assert "nr. 2 på ventelisten" in world.last_to(HAUGEN)
    await world.sms(HANSEN, f"NEI {event_id}")  # three free: the head's offer
    await world.send_all()
    assert "Det er blitt ledig plass" in world.last_to(JOHANSEN)
    assert not any("Det er blitt ledig plass" in t for t in world.texts_to(HAUGEN))


async def test_a_bare_ja_with_one_open_invitation_and_with_two(world: World) -> None:
    first = await world.event(capacity=None)
    await world.send_all()
    await world.sms(HANSEN, "Ja")
    assert world.last_to(HANSEN).startswith("Takk! Dere er påmeldt")
    second = await world.event(capacity=None, title="Fagdag om samvær")
    await world.send_all()
    await world.sms(JOHANSEN, "JA")
    help_text = world.last_to(JOHANSEN)
    assert help_text.startswith("Dere har flere invitasjoner. Svar med nummeret:")
    assert f"JA {first} (Nettverkstreff i Asker)" in help_text
    assert f"JA {second} (Fagdag om samvær)" in help_text
    assert (await world.answers(first))["johansen"] == (None, 0)
    await world.sms(JOHANSEN, f"NEI {second}")
    assert (await world.answers(second))["johansen"] == ("no", 0)
    await world.sms(JOHANSEN, "ja takk, vi kommer!")  # unclear: help, nothing changed
    assert world.last_to(JOHANSEN).startswith("Dere har flere invitasjoner")
    assert (await world.answers(first))["johansen"] == (None, 0)


async def test_stopped_homes_get_no_invitation_and_are_understood(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        await stop(session, "sms", JOHANSEN, "network", "keyword", world.clock.now)
    event_id = await world.event()
    await world.send_all()
    assert world.texts_to(JOHANSEN) == []
    async with world.services.sessions() as session:
        rows = await session.scalars(select(OutboxRow).where(OutboxRow.to == JOHANSEN))
        assert [(r.kind, r.status) for r in rows] == [("invitation", "opted_out")]
    await world.sms(JOHANSEN, f"JA {event_id}")
    assert world.last_to(JOHANSEN).startswith("Takk! Dere er påmeldt")
    assert (await world.answers(event_id))["johansen"] == ("yes", 1)


async def test_a_retried_webhook_changes_nothing(world: World) -> None:
    event_id = await world.event(capacity=1)
    await world.send_all()
    sid = "SM" + "7" * 32
    await world.sms(HANSEN, f"JA {event_id}", sid=sid)
    await world.sms(HANSEN, f"JA {event_id}", sid=sid)  # Twilio retried
    assert len([t for t in world.texts_to(HANSEN) if t.startswith("Takk")]) == 1
    await world.sms(JOHANSEN, f"JA {event_id}", sid="SM" + "8" * 32)
    await world.sms(JOHANSEN, f"JA {event_id}", sid="SM" + "8" * 32)
    assert (await world.show(event_id))["answers"][1]["position"] == 1
    assert sum("ventelisten" in t for t in world.texts_to(JOHANSEN)) == 1


async def test_a_late_answer_is_taken_if_there_is_room(world: World) -> None:
    event_id = await world.event(capacity=1)
    await world.send_all()
    world.clock.now = oslo(2026, 12, 7, 10)  # after the deadline
    await world.sms(HANSEN, f"JA {event_id}")
    assert world.last_to(HANSEN).startswith("Svarfristen er ute, men det var plass.")
    await world.sms(JOHANSEN, f"JA {event_id}")
    assert world.last_to(JOHANSEN).startswith("Svarfristen er ute, og det er fullt")
    world.clock.now = oslo(2026, 12, 10, 18, 30)  # it has begun
    await world.sms(HAUGEN, f"NEI {event_id}")
    assert "allerede begynt" in world.last_to(HAUGEN)


async def test_quiet_hours_hold_the_reminders(world: World) -> None:
    event_id = await world.event(capacity=None)
    await world.send_all()
    await world.sms(HANSEN, f"JA {event_id}")
    world.clock.now = oslo(2026, 12, 3, 23, 30)  # 48 h before the deadline, in quiet hours
    await world.sweep()
    assert not any(t.startswith("Påminnelse") for t in world.texts_to(JOHANSEN))
    world.clock.now = oslo(2026, 12, 4, 8)  # quiet hours end
    await world.sweep()
    reminders = [t for t in world.texts_to(JOHANSEN) if t.startswith("Påminnelse")]
    assert len(reminders) == 1 and f"Svar JA {event_id} eller NEI {event_id}" in reminders[0]
    assert not any(t.startswith("Påminnelse") for t in world.texts_to(HANSEN))  # answered
    world.clock.now = oslo(2026, 12, 9, 12)  # the day before, at 12:00
    await world.sweep()
    await world.sweep()
    before = [t for t in world.texts_to(HANSEN) if t.startswith("Påminnelse")]
    assert before == [
        "Påminnelse: Nettverkstreff i Asker er i morgen, torsdag 10. desember kl. 18:00, "
        f"Asker kulturhus. Velkommen! Kan dere ikke likevel, svar NEI {event_id}.\n\n"
        "Svar STOPP for å melde deg av."
    ]
    assert len([t for t in world.texts_to(JOHANSEN) if t.startswith("Påminnelse")]) == 1


async def test_a_change_goes_to_yes_and_waitlist_and_a_cancel_to_all_but_no(world: World) -> None:
    event_id = await world.event(capacity=1)
    await world.send_all()
    await world.sms(HANSEN, f"JA {event_id}")
    await world.sms(JOHANSEN, f"JA {event_id}")  # waitlist
    await world.sms(HAUGEN, f"NEI {event_id}")
    loaded = await world.services.organisation()
    assert loaded is not None
    ics = await world.client.get(f"/svar/{await _token(world, 'hansen')}.ics")
    assert b"SEQUENCE:0" in await ics.read()
    change = Change(starts=oslo(2026, 12, 10, 19), ends=oslo(2026, 12, 10, 21))
    assert await change_event(world.services, loaded, event_id, change, ADMIN) == 2
    await world.send_all()
    for phone in (HANSEN, JOHANSEN):
        assert world.last_to(phone).startswith(
            "Endring: Nettverkstreff i Asker er nå torsdag 10. desember kl. 19:00-21:00"
        )
    assert not any(t.startswith("Endring") for t in world.texts_to(HAUGEN) + world.texts_to(NILSEN))
    assert await cancel_event(world.services, loaded, event_id, "Salen er stengt.", ADMIN) == 3
    await world.send_all()
    cancelled = "Avlyst: Nettverkstreff i Asker torsdag 10. desember er avlyst. Salen er stengt."
    for phone in (HANSEN, JOHANSEN, NILSEN):
        assert world.last_to(phone).startswith(cancelled)
    assert not any(t.startswith("Avlyst") for t in world.texts_to(HAUGEN))


async def _token(world: World, home: str) -> str:
    """The personal link's token, read back from the invitation that carried it."""
    phone = PHONES[home][0]
    body = next(t for t in world.texts_to(phone) if t.startswith("Invitasjon"))
    return body.split("/svar/")[1].split()[0]


async def test_the_telegram_buttons(world: World) -> None:
    await link_nilsen(world)
    event_id = await world.event(capacity=3)
    await world.send_all()
    [invitation] = world.live.telegram.sent_messages(NILSEN_USER.id)
    assert invitation["text"].startswith("Invitasjon: Nettverkstreff i Asker\n")
    markup = invitation["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in markup[0]] == ["Ja", "Nei", "Vi kommer flere"]
    fake = world.live.telegram
    more = fake.callback_update(NILSEN_USER, invitation["message_id"], f"rsvp:{event_id}:flere")
    assert await fake.deliver(more) == 200
    ask = fake.sent_messages(NILSEN_USER.id)[-1]
    assert ask["text"].startswith("Hvor mange kommer dere")
    numbers = [b["text"] for b in ask["reply_markup"]["inline_keyboard"][0]]
    assert numbers == ["2", "3", "4", "5", "6", "7", "8"]
    three = fake.callback_update(NILSEN_USER, ask["message_id"], f"rsvp:{event_id}:ja:3")
    assert await fake.deliver(three) == 200
    assert "med 3 personer" in fake.sent_messages(NILSEN_USER.id)[-1]["text"]
    assert (await world.answers(event_id))["nilsen"] == ("yes", 3)
    no = fake.callback_update(NILSEN_USER, invitation["message_id"], f"rsvp:{event_id}:nei")
    assert await fake.deliver(no) == 200
    assert await fake.deliver(no) == 200  # redelivered: processed once
    assert sum("ikke kommer" in m["text"] for m in fake.sent_messages(NILSEN_USER.id)) == 1
    assert (await world.answers(event_id))["nilsen"] == ("no", 0)
    shown = await world.show(event_id)
    assert shown["answers"][0]["channel"] == "telegram"
    assert shown["by_channel"]["telegram"] == {"invited": 1, "answered": 1, "answer_rate": 1.0}


async def test_the_calendar_file_and_the_staff_feeds(world: World) -> None:
    event_id = await world.event(audience="home:hansen,team:asker-bvt", capacity=None)
    await world.send_all()
    token = await _token(world, "hansen")
    first = Calendar.from_ical(await (await world.client.get(f"/svar/{token}.ics")).read())
    [vevent] = [c for c in first.walk("VEVENT")]
    assert str(vevent["UID"]) == f"event-{event_id}@fosterhjemstelefonen"
    assert (vevent.decoded("SEQUENCE"), str(vevent["STATUS"])) == (0, "CONFIRMED")
    assert vevent["DTSTART"].params["TZID"] == "Europe/Oslo"
    assert vevent.decoded("DTSTART") == oslo(2026, 12, 10, 18)
    assert str(vevent["LOCATION"]) == "Asker kulturhus"
    wrong = token[:-1] + ("y" if token.endswith("x") else "x")  # one in 64 ends with x
    assert (await world.client.get(f"/svar/{wrong}.ics")).status == 404
    async with world.services.sessions() as session, session.begin():
        team_token = await rotate_feed(session, "team", "asker-bvt", world.clock.now)
        other_token = await rotate_feed(session, "team", "baerum-bvt", world.clock.now)
    assert team_token is not None and other_token is not None
    feed = Calendar.from_ical(await (await world.client.get(f"/ical/{team_token}.ics")).read())
    uids = [str(c["UID"]) for c in feed.walk("VEVENT")]
    assert f"event-{event_id}@fosterhjemstelefonen" in uids and len(uids) > 1
    other = Calendar.from_ical(await (await world.client.get(f"/ical/{other_token}.ics")).read())
    assert f"event-{event_id}@fosterhjemstelefonen" not in [
        str(c["UID"]) for c in other.walk("VEVENT")
    ]
    loaded = await world.services.organisation()
    assert loaded is not None
    await change_event(world.services, loaded, event_id, Change(place="Asker rådhus"), ADMIN)
    await cancel_event(world.services, loaded, event_id, None, ADMIN)
    last = Calendar.from_ical(await (await world.client.get(f"/svar/{token}.ics")).read())
    [vevent] = [c for c in last.walk("VEVENT")]
    assert (vevent.decoded("SEQUENCE"), str(vevent["STATUS"])) == (2, "CANCELLED")
    assert str(vevent["LOCATION"]) == "Asker rådhus"
