"""Retention: which content is past `HELPLINE_RETENTION_DAYS`, and what of it goes.

Content is what identifies someone or tells their story: message bodies (of conversations
and of groups; a group message goes on its own age), the text of outgoing messages, the
answers stored for webhook retries (a whisper names the foster home), unknown callers'
numbers (and of whoever wrote to the network) and voicemail recordings. It goes once a
contact has had no activity for the retention period. What statistics need stays: the
times, kommune, channel, outcome, category, seconds to answer, the foster home (it is in
the register anyway), who answered and the attempts (staff, not the people who called).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from routing.group_messages import ANSWER_KIND

#: Outgoing message kinds that go to the person who wrote in (their number, for an
#: unknown sender, is content); notices to staff go to the register's numbers.
TO_THE_SENDER = frozenset({"receipt", "reply"})
#: Answers about no conversation that go to whoever wrote to the network (a group's
#: number or the network number: anyone may write there): their number goes too.
LOOSE_TO_THE_SENDER = frozenset({ANSWER_KIND})

_RECORDING_SID = re.compile(r"/Recordings/(RE[0-9A-Za-z]+)(?:\.[a-z0-9]+)?/?$")


def cutoff(now: datetime, days: int) -> datetime:
    """Content last touched before this instant is past retention."""
    if now.utcoffset() is None:
        raise ValueError(f"naive datetime {now.isoformat()}: pass an aware one")
    if days < 1:
        raise ValueError("retention must be at least one day")
    return now - timedelta(days=days)


@dataclass(frozen=True, slots=True)
class ContactFacts:
    """What the purge needs to know of one contact."""

    contact_id: int
    started_at: datetime
    last_activity: datetime | None  # answered, ended, closed or a message; None: none
    foster_home: bool  # a registered foster home (its number is in the register)
    caller: str  # the caller's number as stored ("" once blanked)
    recording_url: str | None
    purged_at: datetime | None  # content already purged (recording included)


@dataclass(frozen=True, slots=True)
class Purge:
    """What goes of one contact. `recording_sid` is the Twilio recording to delete (None
    when the URL names none); `drop_recording` says a URL is stored at all."""

    contact_id: int
    blank_caller: bool
    drop_recording: bool
    recording_sid: str | None


def plan_purge(facts: ContactFacts, now: datetime, days: int) -> Purge | None:
    """The purge of a contact with no activity for `days`, or None (younger, or done)."""
    if facts.purged_at is not None:
        return None
    latest = max(facts.started_at, facts.last_activity or facts.started_at)
    if latest >= cutoff(now, days):
        return None
    url = facts.recording_url
    return Purge(
        contact_id=facts.contact_id,
        blank_caller=not facts.foster_home and bool(facts.caller),
        drop_recording=bool(url),
        recording_sid=recording_sid(url) if url else None,
    )


def recording_sid(url: str) -> str | None:
    """The RecordingSid in a Twilio recording URL (`.../Recordings/RE...`), else None."""
    found = _RECORDING_SID.search(url.split("?", 1)[0])
    return found.group(1) if found else None
