"""The tables of events and invitations. They name foster homes and kommuner by id, with no
foreign key to the register, which every load replaces; an event outlives reloads.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpline.db.base import Base, UTCDateTime


class EventRow(Base):
    """A fagdag, nettverkstreff or fosterhjemskafé. `counter` is bumped under the row's
    lock by every answer (so answers to one event are taken one at a time) and numbers
    the waitlist; `sequence` is the iCalendar SEQUENCE, raised on every change."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # fagdag, nettverkstreff, fosterhjemskafe
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rsvp_by: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)  # people; None: any
    audience: Mapped[str] = mapped_column(Text, default="")  # kommune:ID,group:ID,...
    kommuner: Mapped[str] = mapped_column(Text, default="")  # the audience's, for scopes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    counter: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open or cancelled
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class InvitationRow(Base):
    """One foster home invited to one event, and its answer. The personal link's token is
    stored as its SHA-256 only."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("event_id", "foster_home_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    foster_home_id: Mapped[str] = mapped_column(String(64), index=True)
    kommune_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(10))  # how it was invited: sms or telegram
    answer: Mapped[str | None] = mapped_column(String(10), nullable=True)  # yes/no/waitlist/...
    people: Mapped[int] = mapped_column(Integer, default=0)
    queue: Mapped[int | None] = mapped_column(Integer, nullable=True)  # waitlist order
    offer_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_via: Mapped[str | None] = mapped_column(String(10), nullable=True)  # sms/telegram/link
    attended: Mapped[bool] = mapped_column(default=False)


class EventNoticeRow(Base):
    """A message about an event sent to one home, once: a reminder, an offer, a change or
    the cancellation, keyed on (event, kind, home). Inserted in the transaction that
    queues the message, so a job run twice sends nothing twice."""

    __tablename__ = "event_notices"
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)  # no_answer, change:2, ...
    foster_home_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
