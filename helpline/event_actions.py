"""What the command line and the API do to events, each in one transaction followed by its
after-commit work (`helpline.event_jobs.after_change`): create, invite, change, cancel,
attendance; and `invite_count`, the invitation's dry run. `scope` limits a koordinator to
its kommuner; an event outside it is `not_found`, exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence

from helpline.bootstrap import LoadedOrg, Services
from helpline.event_jobs import after_change
from helpline.events import (
    Change,
    EventProblem,
    apply_change,
    attendance,
    audience_kommuner,
    cancel,
    create,
    get,
    invitations,
    locked,
    text_of,
)
from helpline.invitations import homes_to_invite, invite, make_offers, notify
from rota.wallclock import zone
from routing import invitation_texts as say
from routing.access import Scope
from routing.audience import AudienceError, parse_audience
from routing.event_rules import Draft


async def create_event(
    services: Services,
    loaded: LoadedOrg,
    draft: Draft,
    audience: str | None,
    scope: Scope,
    by: str,
) -> int:
    tz = zone(loaded.org.helpline.timezone)
    async with services.sessions() as session, session.begin():
        return await create(
            session, loaded.org, draft, audience, by, services.clock(), scope,
            services.settings.public_url + "/svar/", tz,
        )  # fmt: skip


def _merged(old: str, extra: str) -> str:
    try:
        targets = parse_audience(old + "," + extra if old else extra)
    except AudienceError as error:
        raise EventProblem("invalid", f"audience: {error}") from None
    return ",".join(map(str, targets))


async def invite_count(
    services: Services,
    loaded: LoadedOrg,
    event_id: int,
    extra_audience: str | None,
    scope: Scope,
) -> int:
    """How many foster homes `invite_event` would invite now, with the same checks; a dry
    run: nothing is stored or sent."""
    async with services.sessions() as session:
        event = await get(session, event_id, scope)
        if event is None:
            raise EventProblem("not_found", f"no event {event_id}")
        audience = event.audience
        if extra_audience:
            audience, _kommuner = audience_kommuner(
                _merged(event.audience, extra_audience), loaded.org, scope
            )
        _targets, homes = await homes_to_invite(
            session, loaded.org, event, audience, services.clock()
        )
    return len(homes)


async def invite_event(
    services: Services,
    loaded: LoadedOrg,
    event_id: int,
    extra_audience: str | None,
    scope: Scope,
    by: str,
) -> int:
    """Invite the audience's homes not invited before (with `extra_audience` added to the
    audience first); returns how many were invited now."""
    now = services.clock()
    async with services.sessions() as session, session.begin():
        event = await locked(session, event_id, scope)
        if extra_audience:
            audience = _merged(event.audience, extra_audience)
            event.audience, event.kommuner = audience_kommuner(audience, loaded.org, scope)
        invited = await invite(session, loaded, event, services.settings.public_url, by, now)
    await after_change(services, event_id)
    return invited.homes


async def change_event(
    services: Services, loaded: LoadedOrg, event_id: int, change: Change, scope: Scope
) -> int:
    """Change time, place or capacity; yes and waitlist are told of a new time or place,
    and places a raised capacity frees are offered. Returns how many homes were told."""
    now = services.clock()
    tz = zone(loaded.org.helpline.timezone)
    told = 0
    async with services.sessions() as session, session.begin():
        event = await locked(session, event_id, scope)
        changed = apply_change(event, change, now, tz, services.settings.public_url + "/svar/")
        if changed.moved:
            rows = await invitations(session, event_id)
            homes = [
                (f"change:{event.sequence}", r.foster_home_id)
                for r in rows
                if r.answer in ("yes", "waitlist")
            ]
            text = text_of(event, tz)
            told = await notify(session, loaded, event, homes, lambda _c: say.changed(text), now)
        await make_offers(session, loaded, event, services.settings.waitlist_claim, now)
    await after_change(services, event_id)
    return told


async def cancel_event(
    services: Services, loaded: LoadedOrg, event_id: int, reason: str | None, scope: Scope
) -> int:
    """Cancel; everyone invited who has not said no is told. Returns how many homes."""
    now = services.clock()
    tz = zone(loaded.org.helpline.timezone)
    async with services.sessions() as session, session.begin():
        event = await locked(session, event_id, scope)
        cancel(event, reason, now)
        rows = await invitations(session, event_id)
        for row in rows:
            row.offer_until = None
        homes = [("cancel", r.foster_home_id) for r in rows if r.answer != "no"]
        text = text_of(event, tz)
        told = await notify(
            session, loaded, event, homes, lambda _c: say.cancelled(text, reason), now
        )
    await after_change(services, event_id)
    return told


async def mark_attendance(
    services: Services,
    event_id: int,
    present: Sequence[str],
    absent: Sequence[str],
    scope: Scope,
) -> int:
    """Record who came; returns how many homes are marked present."""
    async with services.sessions() as session, session.begin():
        event = await locked(session, event_id, scope)
        return await attendance(session, event, present, absent)
