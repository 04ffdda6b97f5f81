"""Message conversations (henvendelser by SMS or Telegram): the service side.

Handlers load state, ask `routing` (replies, conversations, message_texts) and store the
result; every message to send is queued in the same transaction (see `outbox`) and the
deadline jobs to schedule are collected in `Effects`, carried out after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from helpline import flood
from helpline.bootstrap import LoadedOrg, Services
from helpline.db.models import ContactRow, MessageRow, OutboxRow, TelegramLinkRow
from rota.model import ChainEntry, FosterHome, Kommune
from rota.phones import mask_phone
from routing import message_texts as say
from routing.conversations import (
    ConversationState,
    Escalate,
    Exhausted,
    MessagePlan,
    Notify,
    Reassign,
    freeze_message_plan,
    notified,
    notify_first,
    on_deadline,
    on_shift_change,
    taken_notices,
)
from routing.ports import Button
from routing.ports import Party as Party  # the web handlers import it from here
from routing.replies import (
    Bare,
    Close,
    ParseError,
    Reply,
    StaffCommand,
    Take,
    UnknownCategory,
    code_contact_id,
    parse_staff,
    short_code,
)

MESSAGE_CHANNELS = ("sms", "telegram")


@dataclass
class Effects:
    """What to do once the transaction has committed."""

    rows: list[OutboxRow] = field(default_factory=list)
    deadlines: list[tuple[int, int, datetime]] = field(default_factory=list)
    cancelled: list[tuple[int, int, datetime]] = field(default_factory=list)
    button_answers: list[tuple[str, str]] = field(default_factory=list)  # query id, text
    button_edits: list[tuple[int, int, tuple[Button, ...]]] = field(default_factory=list)
    # (conversation, follow-up window, due): batch notices to schedule
    followup_batches: list[tuple[int, int, datetime]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StaffSender:
    """The staff member who sent a message: by person id when known, always by phone.

    (Not `rota.engine.Staff`, a team's (primary, backup) pair at an instant.)"""

    person: str | None
    phone: str
    name: str
    reply_to: Party  # where answers to them go (the channel they wrote from)


@dataclass
class MessageWork:
    """One unit of work: a session, the organisation, the time, and the effects."""

    services: Services
    session: AsyncSession
    loaded: LoadedOrg
    now: datetime
    effects: Effects = field(default_factory=Effects)

    # -- sending ---------------------------------------------------------------------

    def send(self, party: Party, body: str, contact: ContactRow | None, *, kind: str,
             buttons: tuple[Button, ...] = (), reply_to: int | None = None) -> None:  # fmt: skip
        sender = contact.helpline_number if contact else self._default_sender()
        row = self.services.outbox.queue(
            self.session, channel=party.channel, to=party.to,
            sender=sender if party.channel == "sms" else "bot", body=body,
            contact_id=contact.id if contact else None, kind=kind, buttons=buttons,
            reply_to=reply_to,
        )  # fmt: skip
        self.effects.rows.append(row)

    def _default_sender(self) -> str:
        numbers = [n for k in self.loaded.org.kommuner for n in k.numbers]
        return numbers[0] if numbers else ""

    async def party_of(self, entry: ChainEntry) -> Party:
        """A staff member's preferred channel: Telegram if linked, else SMS."""
        if entry.person is not None:
            link = await self.session.scalar(
                select(TelegramLinkRow).where(
                    TelegramLinkRow.kind == "person", TelegramLinkRow.target_id == entry.person
                )
            )
            if link is not None:
                return Party("telegram", str(link.chat_id))
        return Party("sms", entry.phone)

    def foster_party(self, contact: ContactRow) -> Party:
        """The foster parent reads answers on the channel they wrote from."""
        if contact.channel == "telegram" and contact.telegram_chat_id is not None:
            return Party("telegram", str(contact.telegram_chat_id))
        return Party("sms", contact.caller)

    async def notify(
        self, contact: ContactRow, entry: ChainEntry, body_for: Callable[[bool], str]
    ) -> None:
        """Notify one chain entry, in the words `body_for(telegram)` gives."""
        party = await self.party_of(entry)
        text = body_for(party.channel == "telegram")
        buttons = staff_buttons(contact.id) if party.channel == "telegram" else ()
        self.send(party, text, contact, kind="notify", buttons=buttons)

    # -- a foster parent writes ---------------------------------------------------------

    async def from_foster_parent(self, home: FosterHome | None, sender: str, dialled: str,
                                 body: str, channel: str, chat_id: int | None) -> None:  # fmt: skip
        """A message from a foster home (or an unknown number): join or open a conversation.

        Every message is stored and every new sender answered; flood control only batches
        what staff are told (see `helpline.flood`)."""
        contact = await self._open_conversation(home, sender)
        if contact is not None:
            message = self.record(contact, "in", channel, "foster_parent", None, body)
            await flood.follow_up(self, contact, message)
            return
        line = dialled or self._default_sender()
        if home is None and await flood.floods(self, line):
            await flood.join(self, sender, line, body, channel)
            return
        contact = await self.start(home, sender, dialled, channel, chat_id)
        self.record(contact, "in", channel, "foster_parent", None, body)
        await self.notify_first(contact, body)
        await flood.opened(self, contact)

    async def _open_conversation(self, home: FosterHome | None, sender: str) -> ContactRow | None:
        query = select(ContactRow).where(  # a purged conversation is history: start anew
            ContactRow.channel.in_(MESSAGE_CHANNELS), ContactRow.closed_at.is_(None),
            ContactRow.content_purged_at.is_(None),
        )  # fmt: skip
        if home is not None:
            query = query.where(ContactRow.foster_home_id == home.id)
        else:
            query = query.where(ContactRow.foster_home_id.is_(None), ContactRow.caller == sender,
                                ContactRow.flood.is_(False))  # fmt: skip
        # Locked: follow-ups of one conversation are handled one at a time (PostgreSQL).
        latest = query.order_by(ContactRow.id.desc()).limit(1).with_for_update()
        return await self.session.scalar(latest)

    async def start(self, home: FosterHome | None, sender: str, dialled: str, channel: str,
                    chat_id: int | None, *, as_flood: bool = False) -> ContactRow:  # fmt: skip
        """Open a conversation: freeze the on-duty chain of its kommune as its plan."""
        who = self.loaded.directory.identify(sender, dialled or None,
                                             self.services.settings.default_kommune)  # fmt: skip
        kommune: Kommune | None = who.kommune
        if home is not None:
            kommune = self.loaded.directory.kommuner.get(home.kommune, kommune)
        chain = self.loaded.rota.on_duty(kommune.id, self.now) if kommune else ()
        if not chain:
            chain = (ChainEntry("fallback", None, None, "Reservenummer",
                                self.loaded.org.helpline.fallback_phone),)  # fmt: skip
        plan = freeze_message_plan(chain, self.loaded.org.helpline.message_deadline)
        line = dialled or (kommune.numbers[0] if kommune and kommune.numbers else "")
        contact = ContactRow(
            channel=channel, kommune_id=kommune.id if kommune else None,
            kommune_name=kommune.name if kommune else None,
            foster_home_id=home.id if home else None, foster_home_name=home.name if home else None,
            caller=sender, caller_masked=mask_phone(sender),
            helpline_number=line or self._default_sender(),
            started_at=self.now, outcome="in_progress", plan="[]", message_plan=plan.to_json(),
            notified_steps=0, last_notified_at=self.now, telegram_chat_id=chat_id, flood=as_flood,
        )  # fmt: skip
        self.session.add(contact)
        await self.session.flush()
        return contact

    async def notify_first(self, contact: ContactRow, body: str) -> None:
        """Notify the primary of a new conversation; the sender gets the one receipt."""
        first = await self._notify_primary(contact, body)
        minutes = say.whole_minutes(plan_of(contact).deadline)
        text = (say.receipt(first.entry, minutes) if contact.foster_home_id is not None
                else say.neutral_receipt(minutes))  # fmt: skip
        self.send(self.foster_party(contact), text, contact, kind="receipt")

    async def _notify_primary(self, contact: ContactRow, body: str) -> Notify:
        """Notify the plan's first step and start its deadline."""
        first = notify_first(plan_of(contact), self.now)
        code = short_code(contact.id)

        def text(telegram: bool) -> str:
            if contact.flood:
                return say.flood_notification(contact.kommune_name, body, code, telegram=telegram)
            return say.staff_notification(contact.foster_home_name, contact.kommune_name, body,
                                          code, telegram=telegram)  # fmt: skip

        await self.notify(contact, first.entry, text)
        contact.notified_steps, contact.last_notified_at = 1, self.now
        self.effects.deadlines.append((contact.id, 0, first.due_at))
        return first

    def targets(self, contact: ContactRow) -> list[ChainEntry]:
        """Who hears of follow-ups: the one who took it, else everyone notified."""
        plan, state = plan_of(contact), state_of(contact)
        if contact.acknowledged_phone:
            return [e for e in plan.steps if e.phone == contact.acknowledged_phone][:1]
        seen: dict[str, ChainEntry] = {}
        for entry in notified(plan, state):
            seen.setdefault(entry.phone, entry)
        return list(seen.values())

    def record(self, contact: ContactRow, direction: str, channel: str, role: str,
               name: str | None, body: str) -> MessageRow:  # fmt: skip
        """Store one message of a conversation (the body is content: never logged)."""
        message = MessageRow(contact_id=contact.id, direction=direction, channel=channel,
                             sender_role=role, sender_name=name, body=body,
                             created_at=self.now)  # fmt: skip
        self.session.add(message)
        return message

    # -- a staff member writes ----------------------------------------------------------

    async def from_staff(
        self, staff: StaffSender, text: str, reply_to_contact: int | None = None
    ) -> None:
        """A staff member's SMS or Telegram text: answer, take, close, or get help."""
        command: StaffCommand = parse_staff(text, self.services.settings.categories)
        if reply_to_contact is not None and isinstance(command, Bare):
            command = Reply(short_code(reply_to_contact), command.text)
        match command:
            case Reply(code=code, text=answer):
                await self._reply(staff, code, answer)
            case Take(code=code):
                contact = await self._contact_for(staff, code)
                if contact is not None:
                    self._take(contact, staff)
                    await self._tell_taken(contact, staff)
                    self.send(staff.reply_to, say.taken_by_you(code), contact, kind="help")
            case Close(code=code, category=category):
                await self._close(staff, code, category)
            case UnknownCategory():
                self.send(staff.reply_to, command.help, None, kind="help")
            case ParseError(help=help_text):
                self.send(staff.reply_to, help_text, None, kind="help")
            case Bare(text=answer):
                await self._bare(staff, answer)
            case _:  # Stop() from staff: nothing to relay
                self.send(staff.reply_to, say.missing_code(), None, kind="help")

    async def _bare(self, staff: StaffSender, answer: str) -> None:
        mine = await self.open_for(staff)
        if len(mine) == 1:
            await self._reply(staff, short_code(mine[0].id), answer)
        elif mine:
            listing = [(short_code(c.id), c.foster_home_name) for c in mine]
            self.send(staff.reply_to, say.several_open(listing), None, kind="help")
        else:
            self.send(staff.reply_to, say.no_open(), None, kind="help")

    async def open_for(self, staff: StaffSender) -> list[ContactRow]:
        """Open conversations this staff member has, or was notified of and nobody took."""
        rows = await self.session.scalars(
            select(ContactRow).where(
                ContactRow.channel.in_(MESSAGE_CHANNELS), ContactRow.closed_at.is_(None),
                ContactRow.content_purged_at.is_(None),
                or_(ContactRow.acknowledged_phone == staff.phone,
                    ContactRow.acknowledged_phone.is_(None)),
            ).order_by(ContactRow.id)
        )  # fmt: skip
        return [c for c in rows if involved(c, staff)]

    async def _contact_for(self, staff: StaffSender, code: str) -> ContactRow | None:
        contact_id = code_contact_id(code)
        contact = await self.session.get(ContactRow, contact_id) if contact_id else None
        if (
            contact is None
            or contact.channel not in MESSAGE_CHANNELS
            or not involved(contact, staff)
        ):
            self.send(staff.reply_to, say.unknown_code(code), None, kind="help")
            return None
        return contact

    async def _reply(self, staff: StaffSender, code: str, answer: str) -> None:
        contact = await self._contact_for(staff, code)
        if contact is None:
            return
        if contact.closed_at is not None:
            self.send(staff.reply_to, say.unknown_code(code), None, kind="help")
            return
        if contact.flood:  # many senders: an answer to one of them would be a guess
            self.send(staff.reply_to, say.flood_no_reply(code), contact, kind="help")
            return
        if contact.answered_at is None:
            self._take(contact, staff)
            await self._tell_taken(contact, staff)
        contact.first_answer_at = contact.first_answer_at or self.now
        contact.outcome = "answered"
        party = self.foster_party(contact)
        self.record(contact, "out", party.channel, "staff", staff.name, answer)
        self.send(party, say.relayed_reply(staff.name, answer), contact, kind="reply")

    def _take(self, contact: ContactRow, staff: StaffSender) -> None:
        if contact.answered_at is not None:
            return
        state = state_of(contact)
        contact.answered_at = self.now
        contact.acknowledged_phone = staff.phone
        contact.answered_by = staff.name
        if state.notified_steps:
            due = state.last_notified_at + plan_of(contact).deadline
            self.effects.cancelled.append((contact.id, state.notified_steps - 1, due))

    async def _tell_taken(self, contact: ContactRow, staff: StaffSender) -> None:
        notice = say.taken_notice(short_code(contact.id), contact.foster_home_name,
                                  contact.kommune_name, staff.name)  # fmt: skip
        for entry in taken_notices(plan_of(contact), state_of(contact), staff.phone):
            if staff.person is not None and entry.person == staff.person:
                continue
            self.send(await self.party_of(entry), notice, contact, kind="taken")

    async def _close(self, staff: StaffSender, code: str, category: str) -> None:
        contact = await self._contact_for(staff, code)
        if contact is None:
            return
        if contact.closed_at is None:
            self._take(contact, staff)
            contact.closed_at = self.now
            contact.ended_at = self.now
            contact.category = category
            if contact.first_answer_at is None:
                contact.outcome = "closed"
        self.send(staff.reply_to, say.closed_confirmation(code, category), contact, kind="help")

    # -- deadlines and shift changes ------------------------------------------------------

    async def on_deadline(self, contact: ContactRow) -> None:
        """A deadline job (or the sweep) for one conversation: escalate or alert, once."""
        plan, state = plan_of(contact), state_of(contact)
        decision = on_deadline(plan, state, self.now)
        code = short_code(contact.id)
        minutes = say.whole_minutes(plan.deadline)
        if isinstance(decision, Escalate):
            missed = decision.missed.name if decision.missed else "ingen"
            body = await self._first_body(contact)

            def text(telegram: bool) -> str:
                return say.escalation_notification(
                    contact.foster_home_name,
                    contact.kommune_name,
                    body,
                    code,
                    missed,
                    minutes,
                    telegram=telegram,
                )

            if not await self._claim(
                contact, notified_steps=decision.step_index + 1, last_notified_at=self.now
            ):
                return
            await self.notify(contact, decision.entry, text)
            self.effects.deadlines.append((contact.id, decision.step_index, decision.due_at))
        elif isinstance(decision, Exhausted):
            if not await self._claim(contact, exhausted_at=self.now, urgent=True):
                return
            alert = say.exhausted_alert(contact.foster_home_name, contact.kommune_name, code,
                                        minutes, [e.name for e in decision.entries])  # fmt: skip
            parties = {await self.party_of(e) for e in decision.entries}
            parties |= {Party("sms", p) for p in self.services.settings.coordinators}
            for party in sorted(parties, key=lambda p: (p.channel, p.to)):
                self.send(party, alert, contact, kind="alert")

    async def _claim(self, contact: ContactRow, **values: object) -> bool:
        """Store the next escalation state only if nobody changed it since it was read (a
        compare-and-set). SQLite ignores FOR UPDATE, so a deadline job and the sweep may
        have read the same state: only the one whose update matches may notify."""
        last = contact.last_notified_at
        result = await self.session.execute(
            update(ContactRow)
            .where(
                ContactRow.id == contact.id,
                ContactRow.notified_steps == contact.notified_steps,
                ContactRow.last_notified_at.is_(None) if last is None
                else ContactRow.last_notified_at == last,
                ContactRow.answered_at.is_(None),
                ContactRow.closed_at.is_(None),
                ContactRow.exhausted_at.is_(None),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        if result.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult
            return False
        for name, value in values.items():
            set_committed_value(contact, name, value)
        return True

    async def on_shift_change(self, contact: ContactRow) -> None:
        """Move a conversation nobody has taken to whoever is on duty now."""
        if contact.kommune_id is None:
            return
        new_chain = self.loaded.rota.on_duty(contact.kommune_id, self.now)
        decision = on_shift_change(plan_of(contact), state_of(contact), new_chain, self.now)
        if not isinstance(decision, Reassign):
            return
        if decision.previous is not None:
            moved = say.moved_notice(short_code(contact.id), decision.notify.entry.name)
            self.send(await self.party_of(decision.previous), moved, contact, kind="moved")
        contact.message_plan = decision.plan.to_json()
        contact.notified_steps, contact.exhausted_at = 0, None
        await self._notify_primary(contact, await self._first_body(contact))

    async def _first_body(self, contact: ContactRow) -> str:
        first = await self.session.scalar(
            select(MessageRow.body).where(MessageRow.contact_id == contact.id,
                                          MessageRow.direction == "in").order_by(MessageRow.id)
        )  # fmt: skip
        return first or ""


def plan_of(contact: ContactRow) -> MessagePlan:
    assert contact.message_plan is not None
    return MessagePlan.from_json(contact.message_plan)


def state_of(contact: ContactRow) -> ConversationState:
    return ConversationState(
        notified_steps=contact.notified_steps,
        taken_at=contact.answered_at,
        closed_at=contact.closed_at,
        last_notified_at=contact.last_notified_at or contact.started_at,
        exhausted_at=contact.exhausted_at,
    )


def involved(contact: ContactRow, staff: StaffSender) -> bool:
    """Is `staff` one of those notified, or the one who took it?"""
    if contact.acknowledged_phone is not None:
        return contact.acknowledged_phone == staff.phone
    plan, state = plan_of(contact), state_of(contact)
    steps = notified(plan, state) if contact.exhausted_at is None else plan.steps
    return any(e.phone == staff.phone or (staff.person and e.person == staff.person)
               for e in steps)  # fmt: skip


def staff_buttons(contact_id: int) -> tuple[Button, ...]:
    """The inline buttons on a staff notification in Telegram."""
    return (
        Button(say.TAKE_BUTTON, f"take:{contact_id}"),
        Button(say.CLOSE_BUTTON, f"close:{contact_id}"),
    )
