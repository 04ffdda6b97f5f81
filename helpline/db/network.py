"""The network's tables that outlive reloads of the register: mutes, welcomes, opt-outs,
group messages and broadcasts. They name groups, foster homes and people by id, with no
foreign key to the register, which every load replaces.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpline.db.base import Base, UTCDateTime


class GroupMuteRow(Base):
    """A member whose group messages are stored, not relayed; `told_at`: when they were
    told, once."""

    __tablename__ = "group_mutes"
    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    foster_home_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    muted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    muted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)  # "cli", a person
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class GroupWelcomeRow(Base):
    """A foster home that got its one welcome to a group (`helpline.welcomes`): it is not
    welcomed again on later loads, even after leaving the group and coming back."""

    __tablename__ = "group_welcomes"
    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    foster_home_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    welcomed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OptOutRow(Base):
    """STOPP (or a carrier-level stop): no more group or info messages of `scope` to this
    address. Help messages are never stopped."""

    __tablename__ = "opt_outs"
    __table_args__ = (UniqueConstraint("channel", "address", "scope"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(10))  # "sms" or "telegram"
    address: Mapped[str] = mapped_column(String(64))  # E.164, or a Telegram chat id
    scope: Mapped[str] = mapped_column(String(80))  # "network" or "group:<id>"
    source: Mapped[str] = mapped_column(String(10))  # "keyword" or "carrier"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GroupMessageRow(Base):
    """A message written to a group, relayed or not. The body is content: never logged,
    blanked by retention (`content_purged_at`)."""

    __tablename__ = "group_messages"
    __table_args__ = (Index("ix_group_messages_group_id_created_at", "group_id", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(64))
    foster_home_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # a member
    sender_person_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # staff
    channel: Mapped[str] = mapped_column(String(10))  # "sms" or "telegram"
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    relayed: Mapped[bool] = mapped_column(default=False)
    muted: Mapped[bool] = mapped_column(default=False)  # the sender was muted: not relayed
    content_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class BroadcastRow(Base):
    """An info message to an audience (`kommune:ID,group:ID,home:ID,team:ID`); its
    recipients are outbox rows with this `broadcast_id`."""

    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))  # "cli", "api:<token name>", ...
    audience: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sender: Mapped[str | None] = mapped_column(String(64), nullable=True)  # None: per kommune
    status: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20), default="broadcast")  # or "invitation"
