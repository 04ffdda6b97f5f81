"""Sending about events: the invitations (once per foster home, each with its personal
link), and notices to chosen homes (offers, reminders, changes, the cancellation), each
once per (event, kind, home).

Everything goes out as `info` on the paced lane, planned by `helpline.broadcasts`
(opt-outs, quiet hours, the sending number) and stored in the caller's transaction; the
lanes are started after the commit (`helpline.event_jobs.after_change`). Telegram
recipients get the answer buttons under invitations, offers and no-answer reminders.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from helpline import broadcasts, optout
from helpline.bootstrap import LoadedOrg
from helpline.db.models import EventNoticeRow, EventRow, InvitationRow
from helpline.events import EventProblem, facts, invitations, reply, standing, text_of
from helpline.telegram_links import all_links
from rota.model import Organisation
from rota.wallclock import zone
from routing.audience import (
    AudienceError,
    Recipient,
    Target,
    audience_homes,
    parse_audience,
    resolve,
)
from routing.broadcasts import body_for
from routing.buttons import rsvp_buttons
from routing.classes import NETWORK_SCOPE
from routing.invitation_texts import invitation, offer
from routing.invitations import Offer, offers
from routing.ports import Button
from routing.quiet import end_of_quiet

LINK_PATH = "/svar/"


def token_hash(token: str) -> str:
    """Link tokens are stored as their SHA-256 only."""
    return hashlib.sha256(token.encode()).hexdigest()


def link(public_url: str, token: str) -> str:
    """A family's personal link."""
    return f"{public_url}{LINK_PATH}{token}"


async def by_token(session: AsyncSession, token: str) -> tuple[EventRow, InvitationRow] | None:
    """The event and invitation a personal link's token belongs to."""
    found = await session.scalar(
        select(InvitationRow).where(InvitationRow.token_hash == token_hash(token))
    )
    if found is None:
        return None
    event = await session.get(EventRow, found.event_id)
    return None if event is None else (event, found)


async def homes_to_invite(
    session: AsyncSession, org: Organisation, event: EventRow, audience: str, now: datetime
) -> tuple[tuple[Target, ...], list[str]]:
    """The targets of `audience` and the foster homes among them that `event` has not
    invited yet: who an invitation now would reach (a dry run stops here), or
    `EventProblem` when the event cannot be invited to."""
    if event.status == "cancelled":
        raise EventProblem("conflict", f"event {event.id} is cancelled")
    if now >= event.starts_at:
        raise EventProblem("conflict", f"event {event.id} has begun")
    if not audience:
        raise EventProblem("invalid", f"event {event.id} has no audience: give --audience")
    try:
        targets = parse_audience(audience)
    except AudienceError as error:
        raise EventProblem("invalid", f"audience: {error}") from None
    done = {r.foster_home_id for r in await invitations(session, event.id)}
    return targets, [h for h in audience_homes(targets, org) if h not in done]


@dataclass
class Invited:
    """What `invite` did: how many homes were invited now, and the sending's plan."""

    homes: int
    plan: broadcasts.Plan | None


async def invite(
    session: AsyncSession,
    loaded: LoadedOrg,
    event: EventRow,
    public_url: str,
    created_by: str,
    now: datetime,
) -> Invited:
    """Invite the homes of the locked `event`'s audience that were not invited before."""
    org = loaded.org
    targets, new = await homes_to_invite(session, org, event, event.audience, now)
    if not new:
        return Invited(0, None)
    tokens = {home: secrets.token_urlsafe(24) for home in new}
    home_targets = tuple(Target("home", home) for home in new)
    recipients = resolve(home_targets, org, await all_links(session))
    tz = zone(org.helpline.timezone)
    text = text_of(event, tz)

    def message(recipient: Recipient) -> tuple[str, tuple[Button, ...]]:
        personal = link(public_url, tokens[recipient.who.removeprefix("home:")])
        return invitation(text, recipient.channel, personal), rsvp_buttons(event.id)

    planned = await broadcasts.plan_for(
        session, org, targets, recipients, event.title, now, now, message
    )
    channels = {r.who: r.channel for r in recipients if r.channel == "telegram"}
    kommune = {h.id: h.kommune for h in org.foster_homes}
    session.add_all(
        InvitationRow(
            event_id=event.id, foster_home_id=home, kommune_id=kommune.get(home),
            token_hash=token_hash(tokens[home]), invited_at=now,
            channel=channels.get(f"home:{home}", "sms"), answer=None, people=0,
            attended=False,
        )
        for home in new
    )  # fmt: skip
    await broadcasts.store(session, planned, created_by, now, "invitation", "invitation")
    return Invited(len(new), planned)


async def _first_time(
    session: AsyncSession, event_id: int, kind: str, home: str, now: datetime
) -> bool:
    """Record that `kind` went to `home` for the event; False when it had."""
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(
        insert_(EventNoticeRow)
        .values(event_id=event_id, kind=kind, foster_home_id=home, sent_at=now)
        .on_conflict_do_nothing(index_elements=["event_id", "kind", "foster_home_id"])
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def sent_notices(session: AsyncSession, event_id: int) -> set[tuple[str, str]]:
    """Every (kind, home) already sent for the event."""
    rows = await session.execute(
        select(EventNoticeRow.kind, EventNoticeRow.foster_home_id).where(
            EventNoticeRow.event_id == event_id
        )
    )
    return {(kind, home) for kind, home in rows}


async def notify(
    session: AsyncSession,
    loaded: LoadedOrg,
    event: EventRow,
    homes: Sequence[tuple[str, str]],
    text: Callable[[str], str],
    now: datetime,
    *,
    buttons: bool = False,
) -> int:
    """Send `text(channel)` to each (kind, home) not sent before, as info; returns how many
    homes it went to now."""
    fresh = [home for kind, home in homes if await _first_time(session, event.id, kind, home, now)]
    if not fresh:
        return 0
    org = loaded.org
    targets = tuple(Target("home", home) for home in fresh)
    recipients = resolve(targets, org, await all_links(session))
    under = rsvp_buttons(event.id) if buttons else ()
    planned = await broadcasts.plan_for(
        session, org, targets, recipients, event.title, now, now,
        lambda r: (body_for(r.channel, text(r.channel)), under),
    )  # fmt: skip
    await broadcasts.store_rows(session, planned, None, "event", now)
    return len(fresh)


async def reachable_homes(
    session: AsyncSession, loaded: LoadedOrg, homes: Sequence[str]
) -> set[str]:
    """The homes at least one of whose addresses has not said STOPP."""
    if not homes:
        return set()
    recipients = resolve(
        tuple(Target("home", h) for h in homes), loaded.org, await all_links(session)
    )
    stopped = await optout.opted_out(session, [NETWORK_SCOPE])
    return {
        r.who.removeprefix("home:") for r in recipients if (r.channel, r.address) not in stopped
    }


async def make_offers(
    session: AsyncSession,
    loaded: LoadedOrg,
    event: EventRow,
    claim: timedelta,
    now: datetime,
) -> list[Offer]:
    """Offer the places that are free to the waitlist, in order; each offer once."""
    rows = await standing(session, event.id)
    waiting = [r.foster_home_id for r in rows if r.answer == "waitlist"]
    if not waiting:
        return []
    config = loaded.org.helpline
    tz = zone(config.timezone)
    send_at = end_of_quiet(now, config.quiet_hours, tz) or now
    reachable = await reachable_homes(session, loaded, waiting)
    made = offers(
        facts(event), [reply(r) for r in rows], now, send_at, claim, reachable.__contains__
    )
    by_home = {r.foster_home_id: r for r in rows}
    text = text_of(event, tz)
    for made_offer in made:
        row = by_home[made_offer.home]
        row.offer_until = made_offer.until
        body = offer(text, made_offer.until, send_at)
        await notify(
            session, loaded, event, [(f"offer:{row.queue}", made_offer.home)], same(body), now,
            buttons=True,
        )  # fmt: skip
    return made


def same(body: str) -> Callable[[str], str]:
    """The same text on every channel."""

    def text(_channel: str) -> str:
        return body

    return text
