"""A staff member writes or taps a button: load what the command is about, let
`routing.staff_commands.on_staff_command` decide, carry the outcome out.

Two staff members (or a staff member and a deadline job) may change one conversation at
the same moment: the claim lets one through, and the other's command is decided again
on what is stored now.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from helpline.db.models import ContactRow
from helpline.messages import MESSAGE_CHANNELS, MessageWork
from routing.replies import Bare, StaffCommand
from routing.staff_commands import StaffSender, named_contact, on_staff_command, read_staff_text

#: How often a command is decided again when the conversation changed under it.
CLAIM_ATTEMPTS = 3


class ConversationBusy(RuntimeError):
    """A conversation kept changing while a staff command was decided."""


async def from_staff(
    work: MessageWork, staff: StaffSender, text: str, replied_to: int | None = None
) -> None:
    """A staff member's SMS or Telegram text (`replied_to`: the conversation whose
    notification it replies to in Telegram): answer, take, close, or get help."""
    command = read_staff_text(text, work.services.settings.categories, replied_to)
    await staff_command(work, staff, command)


async def staff_command(work: MessageWork, staff: StaffSender, command: StaffCommand) -> None:
    """Carry out `command` from `staff` (from a text, or a Telegram button)."""
    for _ in range(CLAIM_ATTEMPTS):
        rows = await _rows_for(work, staff, command)
        views = [work.view(row) for row in rows]
        chats = await work.chats(*(view.plan for view in views))
        outcome = on_staff_command(command, staff, views, chats, work.now)
        contact = next((row for row in rows if row.id == outcome.contact_id), None)
        if await work.carry_out(outcome, contact):
            return
    raise ConversationBusy(f"conversation {outcome.contact_id} kept changing")


async def _rows_for(
    work: MessageWork, staff: StaffSender, command: StaffCommand
) -> list[ContactRow]:
    """The conversations `command` may be about, read afresh: the one its code names, or
    for a bare text the open ones this staff member took or nobody took yet."""
    if isinstance(command, Bare):
        query = (
            select(ContactRow)
            .where(
                ContactRow.channel.in_(MESSAGE_CHANNELS),
                ContactRow.closed_at.is_(None),
                ContactRow.content_purged_at.is_(None),
                or_(
                    ContactRow.acknowledged_phone == staff.phone,
                    ContactRow.acknowledged_phone.is_(None),
                ),
            )
            .order_by(ContactRow.id)
        )
        return list(await work.session.scalars(query.execution_options(populate_existing=True)))
    contact_id = named_contact(command)
    if contact_id is None:
        return []
    contact = await work.session.get(ContactRow, contact_id, populate_existing=True)
    if contact is None or contact.channel not in MESSAGE_CHANNELS:
        return []
    return [contact]
