"""SQLAlchemy tables. Storage only: no logic lives here (STYLE.md habit 7).

The schema is created and changed by Alembic migrations only (`helpline/migrations`).
The network's tables that outlive reloads live in `helpline.db.network`, events and
invitations in `helpline.db.invitations`; they are re-exported here, so importing this
module registers every table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from helpline.db.base import Base as Base
from helpline.db.base import UTCDateTime as UTCDateTime
from helpline.db.invitations import EventNoticeRow as EventNoticeRow
from helpline.db.invitations import EventRow as EventRow
from helpline.db.invitations import InvitationRow as InvitationRow
from helpline.db.network import BroadcastRow as BroadcastRow
from helpline.db.network import GroupMessageRow as GroupMessageRow
from helpline.db.network import GroupMuteRow as GroupMuteRow
from helpline.db.network import GroupWelcomeRow as GroupWelcomeRow
from helpline.db.network import OptOutRow as OptOutRow


class OrgMeta(Base):
    """One row: the organisation's settings and a version bumped on every load."""

    __tablename__ = "org_meta"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64))
    fallback_phone: Mapped[str] = mapped_column(String(32))
    message_deadline_seconds: Mapped[int] = mapped_column(Integer)
    extra_holidays: Mapped[str] = mapped_column(Text)  # "12-24,12-31"
    network_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    quiet_hours: Mapped[str] = mapped_column(String(11), default="21:00-08:00")  # wall-clock
    ressursfamilie_size: Mapped[int] = mapped_column(Integer, default=5)


class OrgVersionRow(Base):
    """One version of the organisation: who made it, how, and the rota file it was.

    A load from a file and every console edit make one. The text (`dump_org` of the
    version) lets a later load list what changed since the version a file was dumped
    from; only the newest versions keep it (`helpline.db.register.KEPT_TEXTS`).
    Outlives reloads: no foreign keys.
    """

    __tablename__ = "org_versions"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime())
    origin: Mapped[str] = mapped_column(String(20))  # "file" or "console"
    person_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # console edits
    summary: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str | None] = mapped_column(Text, nullable=True)


class KommuneRow(Base):
    __tablename__ = "kommuner"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)


class KommuneNumberRow(Base):
    __tablename__ = "kommune_numbers"
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    kommune_id: Mapped[str] = mapped_column(ForeignKey("kommuner.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)


class TeamRow(Base):
    __tablename__ = "teams"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    duty_phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    position: Mapped[int] = mapped_column(Integer)


class TeamKommuneRow(Base):
    __tablename__ = "team_kommuner"
    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    kommune_id: Mapped[str] = mapped_column(
        ForeignKey("kommuner.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)


class PersonRow(Base):
    __tablename__ = "people"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32), index=True)
    position: Mapped[int] = mapped_column(Integer)


class PersonTeamRow(Base):
    __tablename__ = "person_teams"
    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)


class CoverageRuleRow(Base):
    __tablename__ = "coverage_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kommune_id: Mapped[str] = mapped_column(ForeignKey("kommuner.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    days: Mapped[str] = mapped_column(String(100))  # "weekday" or "weekend,holiday"
    start_time: Mapped[str] = mapped_column(String(5))  # "HH:MM" wall-clock
    end_time: Mapped[str] = mapped_column(String(5))
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    season: Mapped[str | None] = mapped_column(String(20), nullable=True)  # "06-01..08-31"


class RotationRow(Base):
    __tablename__ = "rotations"
    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    every_days: Mapped[int] = mapped_column(Integer)


class RotationMemberRow(Base):
    __tablename__ = "rotation_members"
    team_id: Mapped[str] = mapped_column(
        ForeignKey("rotations.team_id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))


class OverrideRow(Base):
    __tablename__ = "overrides"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    position: Mapped[int] = mapped_column(Integer)


class FosterHomeRow(Base):
    __tablename__ = "foster_homes"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kommune_id: Mapped[str] = mapped_column(ForeignKey("kommuner.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)


class FosterHomePhoneRow(Base):
    __tablename__ = "foster_home_phones"
    __table_args__ = (UniqueConstraint("foster_home_id", "phone"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    foster_home_id: Mapped[str] = mapped_column(ForeignKey("foster_homes.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(32), index=True)
    position: Mapped[int] = mapped_column(Integer)


class GroupRow(Base):
    """A ressursfamilie (with its hub, a foster home) or a nettverk."""

    __tablename__ = "groups"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # "ressursfamilie" or "nettverk"
    kommune_id: Mapped[str] = mapped_column(ForeignKey("kommuner.id", ondelete="CASCADE"))
    hub_id: Mapped[str | None] = mapped_column(
        ForeignKey("foster_homes.id", ondelete="CASCADE"), nullable=True
    )
    number: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True)
    position: Mapped[int] = mapped_column(Integer)


class GroupMemberRow(Base):
    __tablename__ = "group_members"
    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    foster_home_id: Mapped[str] = mapped_column(
        ForeignKey("foster_homes.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)


class GroupStaffRow(Base):
    __tablename__ = "group_staff"
    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)


class ConsoleAccessRow(Base):
    """A person's `[[access]]` entry: their console role (admin, koordinator or vakt)."""

    __tablename__ = "console_access"
    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)


class ConsoleAccessKommuneRow(Base):
    """A kommune of a koordinator's `[[access]]` entry."""

    __tablename__ = "console_access_kommuner"
    person_id: Mapped[str] = mapped_column(
        ForeignKey("console_access.person_id", ondelete="CASCADE"), primary_key=True
    )
    kommune_id: Mapped[str] = mapped_column(
        ForeignKey("kommuner.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)


class CalendarFeedRow(Base):
    """A team's or person's duty calendar feed, reached by an unguessable token; only the
    token's SHA-256 is stored. Kept across reloads; `calendars rotate` issues a new one."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (UniqueConstraint("kind", "target_id"),)
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "team" or "person"
    target_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ContactRow(Base):
    """One henvendelse: a call (or, later, a message thread) from a foster home."""

    __tablename__ = "contacts"
    # The open conversation of a foster home, or of an unknown number: the lookup of every
    # inbound message reads only open contacts (migration 0010).
    __table_args__ = (
        Index(
            "ix_contacts_open_by_home",
            "foster_home_id",
            "id",
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
        Index(
            "ix_contacts_open_by_caller",
            "caller",
            "id",
            postgresql_where=text("closed_at IS NULL AND foster_home_id IS NULL"),
            sqlite_where=text("closed_at IS NULL AND foster_home_id IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(10))  # "voice", "sms", "telegram"
    kommune_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    kommune_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    foster_home_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    foster_home_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    caller: Mapped[str] = mapped_column(String(32))  # E.164, to call back; never logged
    caller_masked: Mapped[str] = mapped_column(String(32))
    helpline_number: Mapped[str] = mapped_column(String(32))
    call_sid: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # When a staff member took the contact (pressed 1 on a call; took, answered or closed
    # a conversation), and who: the code's one word is "taken" (ConversationState.taken_at,
    # taken_by, taken_phone). The columns keep their older names (answered_at, answered_by,
    # acknowledged_phone): the API serves the first two, and renaming needs a migration.
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    duration_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outcome: Mapped[str] = mapped_column(String(20))  # in_progress/answered/voicemail/abandoned
    urgent: Mapped[bool] = mapped_column(default=False)
    plan: Mapped[str] = mapped_column(Text)  # the frozen dial plan, JSON
    recording_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    recording_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Message conversations (channel "sms" or "telegram"); None for calls.
    message_plan: Mapped[str | None] = mapped_column(Text, nullable=True)  # MessagePlan JSON
    notified_steps: Mapped[int] = mapped_column(Integer, default=0)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    exhausted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_phone: Mapped[str | None] = mapped_column(String(32), nullable=True)  # taker
    first_answer_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    category: Mapped[str | None] = mapped_column(String(40), nullable=True)
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Flood control: unknown numbers over the hourly cap share one flood conversation.
    flood: Mapped[bool] = mapped_column(default=False)
    # When staff were last told of follow-ups (batched, HELPLINE_FOLLOWUP_BATCH).
    followup_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Retention: when the content (bodies, caller number, recording) was blanked.
    content_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AttemptRow(Base):
    """One number rung for a call, and how it went."""

    __tablename__ = "contact_attempts"
    __table_args__ = (UniqueConstraint("contact_id", "step"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    person_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome: Mapped[str] = mapped_column(String(20))  # ringing/accepted/no-answer/declined/...


class WebhookEventRow(Base):
    """An inbound event already handled, with the answer given: retries get the same."""

    __tablename__ = "webhook_events"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxRow(Base):
    """Every outgoing SMS and Telegram message. Written in the transaction that decides
    to send it (pending), then delivered; the sandbox keeps it here (status sandbox)."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(10))  # "sms" or "telegram"
    to: Mapped[str] = mapped_column(String(64))  # E.164, or a Telegram chat id
    sender: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    contact_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending/sending/sent/...
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(20), default="message")
    buttons: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON [[label, data]]
    reply_to: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the latest attempt claimed it (status sending): a crash leaves it so. The help
    # lane's sweep tries it again after routing.delivery.SENDING_TIMEOUT; the paced
    # sender takes back claims older than its lease (`helpline.paced_rows.recover_stuck`).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The network (issue 9). The class decides what may hold a message back: "help" is
    # never held, opted out or queued behind "group" and "info" (broadcasts, invitations).
    msg_class: Mapped[str] = mapped_column(String(10), default="help")
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # held
    broadcast_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    group_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    segments: Mapped[int | None] = mapped_column(Integer, nullable=True)  # SMS parts
    disable_notification: Mapped[bool] = mapped_column(default=False)  # Telegram, silently
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)  # Twilio/Telegram


class MessageRow(Base):
    """One message of a conversation, in or out. The body is content: never logged."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    channel: Mapped[str] = mapped_column(String(10))
    sender_role: Mapped[str] = mapped_column(String(20))  # foster_parent/staff/system
    sender_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TelegramLinkRow(Base):
    """A Telegram account linked to a person or a foster home."""

    __tablename__ = "telegram_links"
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(12))  # "person" or "foster_home"
    target_id: Mapped[str] = mapped_column(String(64), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The user blocked the bot (403): help falls back to SMS until they write again.
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LinkTokenRow(Base):
    """A one-time Telegram deep-link token; only its SHA-256 is stored."""

    __tablename__ = "link_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    target_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiTokenRow(Base):
    """A coordinators' API bearer token; only its SHA-256 is stored. It belongs to a
    person, has a role and a kommune scope (empty: all, for `admin`), and expires."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    person_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    role: Mapped[str] = mapped_column(String(20), default="koordinator")  # admin|koordinator
    kommuner: Mapped[str] = mapped_column(Text, default="")  # "asker,baerum"; "" = all (admin)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AccessLogRow(Base):
    """The innsynslogg: every read of personal data — who, when, what, from where.

    Append-only and with no foreign keys: it outlives what it logs (no cascade delete)."""

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(200))  # "api:asker-kari", "cli:root", ...
    source: Mapped[str] = mapped_column(String(20))  # "api", "cli" or "console"
    action: Mapped[str] = mapped_column(String(40))  # "contact.read", "contacts.list", ...
    target: Mapped[str] = mapped_column(Text)  # a contact id, or the list query
    client: Mapped[str | None] = mapped_column(String(100), nullable=True)  # IP or host
