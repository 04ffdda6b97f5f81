"""The console's inbox: load the message conversations a user sees, and carry out their
take, answer and close from the browser.

Decisions are `routing.inbox`'s (who sees what, the order, why a form cannot go through)
and `routing.staff_commands`' (what a take, answer or close does): a form from the
browser goes through `helpline.staff_messages.staff_command`, the same relay as a staff
member's SMS or Telegram text, so the answer reaches the foster parent from the helpline
number and the staff member's own number is never shown to anyone.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.bootstrap import LoadedOrg, Services
from helpline.db.events import once
from helpline.db.models import ContactRow, MessageRow
from helpline.effects import Effects, apply_effects
from helpline.messages import MESSAGE_CHANNELS, MessageWork
from helpline.staff_messages import staff_command
from routing.inbox import InboxItem, MessageTime, Viewer, ordered, refusal, sees
from routing.ports import Party
from routing.replies import Close, Reply, Take
from routing.staff_commands import StaffSender

Command = Reply | Take | Close


def console_staff(loaded: LoadedOrg, person_id: str) -> StaffSender | None:
    """The console user as the relay knows staff: by person and their own phone; the
    relay's confirmations («Du har tatt #K7 …») go to that phone by SMS, as when they
    take it by SMS, so they can go on from the phone."""
    person = loaded.directory.people.get(person_id)
    if person is None:
        return None
    return StaffSender(person.id, person.phone, person.name, Party("sms", person.phone))


async def items(
    services: Services,
    session: AsyncSession,
    loaded: LoadedOrg,
    now: datetime,
    *,
    ids: list[int] | None = None,
) -> list[InboxItem]:
    """The open message conversations (or the message conversations `ids`, open or not),
    with the times of their messages, by id."""
    query = select(ContactRow).where(ContactRow.channel.in_(MESSAGE_CHANNELS))
    if ids is None:
        query = query.where(ContactRow.closed_at.is_(None))
    else:
        query = query.where(ContactRow.id.in_(ids))
    rows = list(await session.scalars(query.order_by(ContactRow.id)))
    times: dict[int, list[MessageTime]] = defaultdict(list)
    if rows:
        found = await session.execute(
            select(
                MessageRow.contact_id,
                MessageRow.direction,
                MessageRow.sender_role,
                MessageRow.created_at,
            )
            .where(MessageRow.contact_id.in_([row.id for row in rows]))
            .order_by(MessageRow.id)
        )
        for contact_id, direction, role, at in found:
            times[contact_id].append(MessageTime(direction, role, at))
    work = MessageWork(services, session, loaded, now)
    return [
        InboxItem(work.view(row), row.kommune_id, row.channel, row.started_at, tuple(times[row.id]))
        for row in rows
        if row.message_plan is not None
    ]


async def visible(
    services: Services, session: AsyncSession, loaded: LoadedOrg, viewer: Viewer, now: datetime
) -> list[InboxItem]:
    """The open conversations `viewer` sees, in the inbox's order."""
    return ordered(
        item for item in await items(services, session, loaded, now) if sees(item, viewer)
    )


async def one(
    services: Services,
    session: AsyncSession,
    loaded: LoadedOrg,
    viewer: Viewer,
    contact_id: int,
    now: datetime,
) -> InboxItem | None:
    """Message conversation `contact_id` if `viewer` sees it; None when it is missing,
    not a message conversation, or not theirs to see (alike)."""
    found = await items(services, session, loaded, now, ids=[contact_id])
    return found[0] if found and sees(found[0], viewer) else None


async def act(
    services: Services,
    loaded: LoadedOrg,
    staff: StaffSender,
    viewer: Viewer,
    contact_id: int,
    command: Command,
    form_id: str,
) -> str:
    """Carry out `command` from the browser through the staff relay, once per form
    (`form_id`: a resent form changes nothing). The answer: "ok", "missing" (not one the
    viewer sees), or `routing.inbox.refusal`'s reason."""
    effects = Effects()

    async def work(session: AsyncSession) -> str:
        now = services.clock()
        item = await one(services, session, loaded, viewer, contact_id, now)
        refused = "missing" if item is None else refusal(item.conversation, staff, command)
        if refused is not None:
            raise _Refused(refused)  # rolls back: a refused form leaves no trace
        await staff_command(MessageWork(services, session, loaded, now, effects), staff, command)
        return "ok"

    key = f"console:{staff.person}:{form_id}"
    try:
        answer = await once(services.sessions, services.clock, key, work)
    except _Refused as refused:
        return refused.reason
    await apply_effects(services, effects)
    return answer


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
