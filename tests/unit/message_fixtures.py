"""A conversation of Familien Hansen (Asker) as the message core sees it, at named instants."""

from __future__ import annotations

from datetime import datetime, timedelta

from rota.model import ChainEntry
from routing.conversations import Conversation, ConversationState, freeze_message_plan
from routing.ports import Party
from tests.unit.rota_fixtures import DUTY_PHONE, FALLBACK, utc

MIN = timedelta(minutes=1)
DEADLINE = 10 * MIN

KARI = ChainEntry("primary", "asker-bvt", "kari", "Kari Nordmann", "+4791234567")
OLA = ChainEntry("backup", "asker-bvt", "ola", "Ola Hansen", "+4791234568")
NINA = ChainEntry("barnevernvakt", "bvv-vest", "nina", "Nina Vik", DUTY_PHONE)
PLAN = freeze_message_plan((KARI, OLA, NINA, FALLBACK), DEADLINE)

HANSEN_PHONE = "+4798765432"
HANSEN_SMS = Party("sms", HANSEN_PHONE)
KARI_SMS, OLA_SMS = Party("sms", KARI.phone), Party("sms", OLA.phone)
KARI_CHAT = Party("telegram", "5001")

#: Tuesday 10 March 2026, 21:00 in Oslo: the message arrives; `at(m)` is m minutes later.
OPENED = utc(2026, 3, 10, 20, 0)


def at(minutes: int) -> datetime:
    return OPENED + minutes * MIN


def hansen(
    notified: int = 1,
    last: int = 0,
    *,
    closed_at: datetime | None = None,
    exhausted_at: datetime | None = None,
    flood: bool = False,
) -> Conversation:
    """Conversation K7 of Familien Hansen, `notified` steps told, the last at `at(last)`,
    nobody has taken it; `flood` marks a flood conversation."""
    state = ConversationState(notified, None, closed_at, at(last), exhausted_at)
    return Conversation(7, PLAN, state, "Familien Hansen", "Asker", HANSEN_SMS, flood)
