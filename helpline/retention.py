"""Retention, the service side: blank what `routing.retention` says is past its time:
the content of contacts, loose outbox bodies, and the bodies of group messages.

Run daily by a durable job (`purge_content` in `helpline.jobs`) and by `helpline purge`.
Recordings are deleted at Twilio first; a contact whose recording could not be deleted
keeps its URL and is not marked purged, so the next run tries again. The access log is
never purged: it must outlive what it logs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bots.twilio_recordings import TwilioRecordings
from helpline.bootstrap import Services
from helpline.db.models import (
    ContactRow,
    GroupMessageRow,
    MessageRow,
    OutboxRow,
    WebhookEventRow,
)
from helpline.settings import Settings
from routing.ports import ChannelError, RecordingStore
from routing.retention import (
    LOOSE_TO_THE_SENDER,
    TO_THE_SENDER,
    ContactFacts,
    Purge,
    cutoff,
    plan_purge,
)

log = logging.getLogger(__name__)

CHUNK = 500  # ids per IN (...) clause


@dataclass
class PurgeCounts:
    """What a purge blanked or deleted (or, in a dry run, would)."""

    contacts: int = 0
    message_bodies: int = 0
    outbox_bodies: int = 0
    group_message_bodies: int = 0
    webhook_answers: int = 0
    unknown_numbers: int = 0
    recordings: int = 0
    recordings_kept: int = 0  # could not be deleted at Twilio: tried again next run

    def items(self) -> list[tuple[str, int]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


@asynccontextmanager
async def recordings_for(settings: Settings) -> AsyncIterator[RecordingStore | None]:
    """Twilio's recordings with the configured credentials; None in sandbox mode, where
    recordings are only dropped from the database (the simulator's are made up)."""
    if settings.twilio_account_sid is None or settings.twilio_auth_token is None:
        yield None
        return
    async with TwilioRecordings(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        api_base=settings.twilio_api_base,
    ) as store:
        yield store


async def purge(
    services: Services, *, dry_run: bool, recordings: RecordingStore | None
) -> PurgeCounts:
    """Blank the content of contacts idle for `HELPLINE_RETENTION_DAYS`, delete old
    webhook answers; with `dry_run`, only count what would go."""
    now = services.clock()
    cut = cutoff(now, services.settings.retention_days)
    async with services.sessions() as session:
        plans = await _plans(session, now, services.settings.retention_days)
        counts = await _count(session, plans, cut)
    if dry_run:
        return counts
    deleted = await _delete_recordings(plans, recordings)
    counts.recordings = len(deleted)
    counts.recordings_kept = sum(p.drop_recording for p in plans) - len(deleted)
    async with services.sessions() as session, session.begin():
        await _blank(session, plans, deleted, cut, now)
    log.info(
        "purge of content older than %s: %s",
        cut.isoformat(),
        ", ".join(f"{name} {n}" for name, n in counts.items()),
    )
    return counts


async def _plans(session: AsyncSession, now: datetime, days: int) -> list[Purge]:
    latest_message = (
        select(MessageRow.contact_id, func.max(MessageRow.created_at).label("at"))
        .group_by(MessageRow.contact_id)
        .subquery()
    )
    rows = await session.execute(
        select(ContactRow, latest_message.c.at)
        .outerjoin(latest_message, latest_message.c.contact_id == ContactRow.id)
        .where(ContactRow.content_purged_at.is_(None), ContactRow.started_at < cutoff(now, days))
        .order_by(ContactRow.id)
    )
    plans = []
    for contact, last_message in rows:
        touched = [contact.answered_at, contact.ended_at, contact.closed_at, last_message]
        facts = ContactFacts(
            contact_id=contact.id,
            started_at=contact.started_at,
            last_activity=max((t for t in touched if t is not None), default=None),
            foster_home=contact.foster_home_id is not None,
            caller=contact.caller,
            recording_url=contact.recording_url,
            purged_at=contact.content_purged_at,
        )
        plan = plan_purge(facts, now, days)
        if plan is not None:
            plans.append(plan)
    return plans


async def _count(session: AsyncSession, plans: Sequence[Purge], cut: datetime) -> PurgeCounts:
    counts = PurgeCounts(
        contacts=len(plans),
        unknown_numbers=sum(p.blank_caller for p in plans),
        recordings=sum(p.drop_recording for p in plans),
    )
    old_message = (MessageRow.created_at < cut, MessageRow.body != "")
    old_outbox = (OutboxRow.created_at < cut, OutboxRow.body != "")
    for chunk in _chunks(p.contact_id for p in plans):
        in_chunk = MessageRow.contact_id.in_(chunk)
        counts.message_bodies += await _count_of(session, MessageRow, in_chunk, *old_message)
        in_chunk = OutboxRow.contact_id.in_(chunk)
        counts.outbox_bodies += await _count_of(session, OutboxRow, in_chunk, *old_outbox)
    no_contact = OutboxRow.contact_id.is_(None)
    counts.outbox_bodies += await _count_of(session, OutboxRow, no_contact, *old_outbox)
    counts.group_message_bodies = await _count_of(session, GroupMessageRow, *_old_group(cut))
    old_event = WebhookEventRow.created_at < cut
    counts.webhook_answers = await _count_of(session, WebhookEventRow, old_event)
    return counts


async def _delete_recordings(plans: Sequence[Purge], recordings: RecordingStore | None) -> set[int]:
    """Delete the recordings at Twilio; the ids of contacts whose URL may now go."""
    done: set[int] = set()
    for plan in plans:
        if not plan.drop_recording:
            continue
        if recordings is None or plan.recording_sid is None:
            if recordings is not None:
                log.warning(
                    "contact %d: recording URL names no Twilio recording; dropped", plan.contact_id
                )
            done.add(plan.contact_id)
            continue
        try:
            await recordings.delete_recording(plan.recording_sid)
        except ChannelError as error:
            log.warning(
                "contact %d: recording not deleted, kept for the next purge: %s",
                plan.contact_id,
                error,
            )
            continue
        done.add(plan.contact_id)
    return done


async def _blank(
    session: AsyncSession, plans: Sequence[Purge], deleted: set[int], cut: datetime, now: datetime
) -> None:
    unknown = [p.contact_id for p in plans if p.blank_caller]
    pending = {p.contact_id for p in plans if p.drop_recording} - deleted
    # A message that arrived since the plans were made is younger than `cut`: it stays.
    for chunk in _chunks(p.contact_id for p in plans):
        messages = MessageRow.contact_id.in_(chunk), MessageRow.created_at < cut
        await session.execute(update(MessageRow).where(*messages).values(body=""))
        outbox = OutboxRow.contact_id.in_(chunk), OutboxRow.created_at < cut
        await session.execute(update(OutboxRow).where(*outbox).values(body="", buttons=None))
        done = [i for i in chunk if i not in pending]
        await session.execute(
            update(ContactRow).where(ContactRow.id.in_(done)).values(content_purged_at=now)
        )
    for chunk in _chunks(unknown):
        await session.execute(update(ContactRow).where(ContactRow.id.in_(chunk)).values(caller=""))
        to_sender = (
            OutboxRow.contact_id.in_(chunk),
            OutboxRow.kind.in_(TO_THE_SENDER),
            OutboxRow.channel == "sms",
        )
        await session.execute(update(OutboxRow).where(*to_sender).values(to=""))
    for chunk in _chunks(sorted(deleted)):
        recorded = ContactRow.id.in_(chunk)
        await session.execute(update(ContactRow).where(recorded).values(recording_url=None))
    loose = OutboxRow.contact_id.is_(None), OutboxRow.created_at < cut, OutboxRow.body != ""
    await session.execute(update(OutboxRow).where(*loose).values(body="", buttons=None))
    answers = (
        OutboxRow.contact_id.is_(None),
        OutboxRow.created_at < cut,
        OutboxRow.kind.in_(LOOSE_TO_THE_SENDER),
        OutboxRow.channel == "sms",
    )
    await session.execute(update(OutboxRow).where(*answers).values(to=""))
    await session.execute(
        update(GroupMessageRow).where(*_old_group(cut)).values(body="", content_purged_at=now)
    )
    await session.execute(delete(WebhookEventRow).where(WebhookEventRow.created_at < cut))


def _old_group(cut: datetime) -> tuple[ColumnElement[bool], ...]:
    """Group messages past retention: each goes on its own age (there is no conversation
    to keep it alive)."""
    return GroupMessageRow.created_at < cut, GroupMessageRow.content_purged_at.is_(None)


async def _count_of(session: AsyncSession, table: type[object], *where: ColumnElement[bool]) -> int:
    query: Select[int] = select(func.count()).select_from(table).where(*where)
    return int(await session.scalar(query) or 0)


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    batch: list[int] = []
    for contact_id in ids:
        batch.append(contact_id)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch
