"""A foster parent (or an unknown number) writes: join their open conversation, or open one.

Every message is stored and every new sender answered; flood control only batches what
staff are told (see `helpline.flood`).
"""

from __future__ import annotations

from sqlalchemy import select

from helpline import flood, intake
from helpline.db.models import ContactRow
from helpline.messages import MESSAGE_CHANNELS, MessageWork
from rota.model import FosterHome
from routing.effects import Logged


async def from_foster_parent(
    work: MessageWork,
    home: FosterHome | None,
    sender: str,
    dialled: str,
    body: str,
    channel: str,
    chat_id: int | None,
) -> None:
    """A message from a foster home (or an unknown number): join or open a conversation."""
    contact = await _open_conversation(work, home, sender)
    if contact is not None:
        message = work.record(contact, Logged("in", channel, "foster_parent", None, body))
        await flood.follow_up(work, contact, message)
        return
    line = dialled or work.default_sender()
    if home is None and await flood.floods(work, line):
        await flood.join(work, sender, line, body, channel)
        return
    contact = await intake.start_conversation(work, home, sender, dialled, channel, chat_id)
    work.record(contact, Logged("in", channel, "foster_parent", None, body))
    await intake.notify_opened(work, contact, body)
    await flood.opened(work, contact)


async def _open_conversation(
    work: MessageWork, home: FosterHome | None, sender: str
) -> ContactRow | None:
    query = select(ContactRow).where(  # a purged conversation is history: start anew
        ContactRow.channel.in_(MESSAGE_CHANNELS),
        ContactRow.closed_at.is_(None),
        ContactRow.content_purged_at.is_(None),
    )
    if home is not None:
        query = query.where(ContactRow.foster_home_id == home.id)
    else:
        query = query.where(
            ContactRow.foster_home_id.is_(None),
            ContactRow.caller == sender,
            ContactRow.flood.is_(False),
        )
    # Locked: follow-ups of one conversation are handled one at a time (PostgreSQL).
    latest = query.order_by(ContactRow.id.desc()).limit(1).with_for_update()
    return await work.session.scalar(latest)
