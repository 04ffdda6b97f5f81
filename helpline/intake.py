"""A new contact, call or message alike: identify the caller, take the on-duty chain (or
the fallback), freeze it as the contact's plan, store the contact.

`routing.callers.route_contact` decides who it is and whom to reach; the channel's plan
is frozen from that chain (`call_plan.freeze_plan` for a call,
`conversations.freeze_message_plan` for a message), and the row is written here. A new
conversation is then announced (`notify_opened`) as `routing.lifecycle.opened` says.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from helpline import metrics
from helpline.bootstrap import LoadedOrg
from helpline.db.models import ContactRow
from helpline.messages import MessageWork
from rota.model import FosterHome
from rota.phones import mask_phone
from routing import lifecycle
from routing.call_plan import CallPlan
from routing.callers import Routed, conversation_line, route_contact
from routing.conversations import freeze_message_plan


def route(
    loaded: LoadedOrg,
    caller: str | None,
    dialled: str | None,
    default_kommune: str | None,
    now: datetime,
    home: FosterHome | None = None,
) -> Routed:
    """Who is calling or writing, and the chain to reach at `now`."""
    return route_contact(loaded.directory, loaded.rota, caller, dialled, default_kommune, now, home)


def call_values(
    routed: Routed, plan: CallPlan, *, caller: str, line: str, call_sid: str, now: datetime
) -> dict[str, object]:
    """The columns of a new call's contact, with its frozen dial plan
    (`call_plan.freeze_plan` of the routed chain)."""
    values = _contact_values(routed, "voice", caller, line, now)
    values.update(call_sid=call_sid, plan=plan.to_json())
    return values


async def open_conversation(
    session: AsyncSession,
    routed: Routed,
    loaded: LoadedOrg,
    *,
    channel: str,
    caller: str,
    line: str,
    now: datetime,
    chat_id: int | None,
    flood: bool,
) -> ContactRow:
    """Store a new message conversation with its frozen escalation plan; nobody is
    notified yet (`routing.lifecycle.opened` does that). Its follow-up mark starts at
    `now`: the first notice tells staff of every message so far (`helpline.flood`)."""
    plan = freeze_message_plan(routed.chain, loaded.org.helpline.message_deadline)
    contact = _contact(routed, channel, caller, line, now)
    contact.plan = "[]"
    contact.message_plan = plan.to_json()
    contact.notified_steps, contact.last_notified_at = 0, now
    contact.followup_notified_at = now
    contact.telegram_chat_id = chat_id
    contact.flood = flood
    session.add(contact)
    await session.flush()
    metrics.contact_reached(session, channel, contact.outcome)
    return contact


async def start_conversation(
    work: MessageWork,
    home: FosterHome | None,
    sender: str,
    dialled: str,
    channel: str,
    chat_id: int | None,
    *,
    as_flood: bool = False,
) -> ContactRow:
    """Open a conversation: freeze the on-duty chain of its kommune as its plan."""
    routed = route(
        work.loaded, sender, dialled or None, work.services.settings.default_kommune, work.now, home
    )
    line = conversation_line(routed, dialled)
    return await open_conversation(
        work.session,
        routed,
        work.loaded,
        channel=channel,
        caller=sender,
        line=line or work.default_sender(),
        now=work.now,
        chat_id=chat_id,
        flood=as_flood,
    )


async def notify_opened(work: MessageWork, contact: ContactRow, body: str) -> None:
    """Notify the primary of a new conversation; the sender gets the one receipt."""
    conversation = work.view(contact)
    outcome = lifecycle.opened(conversation, body, await work.chats(conversation.plan), work.now)
    if not await work.carry_out(outcome, contact):  # a row of this transaction: never
        raise RuntimeError(f"conversation {contact.id} changed while it was being opened")


def _contact(routed: Routed, channel: str, caller: str, line: str, now: datetime) -> ContactRow:
    return ContactRow(**_contact_values(routed, channel, caller, line, now))


def _contact_values(
    routed: Routed, channel: str, caller: str, line: str, now: datetime
) -> dict[str, object]:
    kommune, home = routed.kommune, routed.foster_home
    return {
        "channel": channel,
        "kommune_id": kommune.id if kommune else None,
        "kommune_name": kommune.name if kommune else None,
        "foster_home_id": home.id if home else None,
        "foster_home_name": home.name if home else None,
        "caller": caller,
        "caller_masked": mask_phone(caller),
        "helpline_number": line,
        "started_at": now,
        "outcome": "in_progress",
        "urgent": False,
    }
