"""Who the demo organisation (`helpline/demo.toml`) has on duty at the e2e tests' instants,
written by hand from its coverage rules, rotations and override.

An e2e test that asked the rota engine what to expect could not catch a wrong engine, so
the tests take their expectations from here. Every chain was checked once against
`helpline oncall --kommune K --at ...` on the demo; `tests/unit/test_demo_duty.py` compares
the table with the engine, so an edited demo file shows up there as a stale table.

How the rows follow from the demo file:
- Coverage, both kommuner alike: on weekdays 08:00-15:30 and 15:30-22:00 the kommune's own
  barnevernstjeneste; every night 22:00-08:00, and weekend and holiday days, bvv-vest.
  While a kommune's own team covers, the barnevernvakt serving it comes after the backup.
- Rotations: weekly turns from Monday 5 Jan 2026 08:00, handed over on Mondays at 08:00;
  the next member in the list is backup. Monday 23 Nov 2026 08:00 starts turn 46 (322
  days, 46 weeks, later): asker-bvt [kari, ola, ingrid], 46 % 3 = 1: Ola, backup Ingrid;
  baerum-bvt [marte, jonas, silje]: Jonas, backup Silje; bvv-vest [nina, eirik, hilde,
  tor], 46 % 4 = 2: Hilde, backup Tor. The one override (Hilde, 24-27 Dec) is a month off.
- bvv-vest has a duty phone: its primary is called on +4792000000, under their own name.
- The fallback number +4740000000 ends every chain.
Oslo is UTC+1 in November: 10:00 there is 09:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rota.model import ChainEntry

Chain = tuple[ChainEntry, ...]

MONDAY_10 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 23 Nov 2026 10:00 in Oslo
MONDAY_21_51 = datetime(2026, 11, 23, 20, 51, tzinfo=UTC)  # 21:51: the evening rule
MONDAY_21_55 = datetime(2026, 11, 23, 20, 55, tzinfo=UTC)  # 21:55: the evening rule
MONDAY_22_01 = datetime(2026, 11, 23, 21, 1, tzinfo=UTC)  # 22:01: past the shift change
TUESDAY_03 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 24 Nov 03:00: the night

FALLBACK = ChainEntry("fallback", None, None, "Reservenummer", "+4740000000")

# Asker, Monday 10:00: the weekday 08:00-15:30 rule, asker-bvt, turn 46 (Ola, then Ingrid);
# bvv-vest serves Asker and comes third, on its duty phone, with Hilde (turn 46) carrying it.
# Checked: `helpline oncall --kommune asker --at 2026-11-23T10:00`.
ASKER_MONDAY_10: Chain = (
    ChainEntry("primary",       "asker-bvt", "ola",    "Ola Berg",       "+4791234568"),
    ChainEntry("backup",        "asker-bvt", "ingrid", "Ingrid Solberg", "+4741234501"),
    ChainEntry("barnevernvakt", "bvv-vest",  "hilde",  "Hilde Aas",      "+4792000000"),
    FALLBACK,
)  # fmt: skip

# Bærum, Monday 10:00: the weekday 08:00-15:30 rule, baerum-bvt, turn 46 (Jonas, then
# Silje); bvv-vest third as for Asker.
# Checked: `helpline oncall --kommune baerum --at 2026-11-23T10:00`.
BAERUM_MONDAY_10: Chain = (
    ChainEntry("primary",       "baerum-bvt", "jonas", "Jonas Dahl",   "+4745678123"),
    ChainEntry("backup",        "baerum-bvt", "silje", "Silje Bakken", "+4790876543"),
    ChainEntry("barnevernvakt", "bvv-vest",   "hilde", "Hilde Aas",    "+4792000000"),
    FALLBACK,
)  # fmt: skip

# Asker, Monday evening before 22:00: the weekday 15:30-22:00 rule, asker-bvt again, in the
# same turn: the same chain as at 10:00.
# Checked: `helpline oncall --kommune asker --at 2026-11-23T21:51` (and 21:55).
ASKER_MONDAY_EVENING: Chain = ASKER_MONDAY_10

# Asker, the night from Monday 22:00 to Tuesday 08:00: the every-day 22:00-08:00 rule,
# bvv-vest, turn 46: Hilde on the duty phone, Tor backs her up on his own phone. bvv-vest
# covers itself, so it does not come again as the barnevernvakt.
# Checked: `helpline oncall --kommune asker --at 2026-11-23T22:01` (and 2026-11-24T03:00).
ASKER_MONDAY_NIGHT: Chain = (
    ChainEntry("primary", "bvv-vest", "hilde", "Hilde Aas",   "+4792000000"),
    ChainEntry("backup",  "bvv-vest", "tor",   "Tor Eriksen", "+4746600789"),
    FALLBACK,
)  # fmt: skip

#: Every (kommune, instant) the e2e tests use, with its chain: what the unit test checks.
DEMO_DUTY: dict[tuple[str, datetime], Chain] = {
    ("asker",  MONDAY_10):    ASKER_MONDAY_10,
    ("baerum", MONDAY_10):    BAERUM_MONDAY_10,
    ("asker",  MONDAY_21_51): ASKER_MONDAY_EVENING,
    ("asker",  MONDAY_21_55): ASKER_MONDAY_EVENING,
    ("asker",  MONDAY_22_01): ASKER_MONDAY_NIGHT,
    ("asker",  TUESDAY_03):   ASKER_MONDAY_NIGHT,
}  # fmt: skip


def phones(chain: Chain) -> list[str]:
    """The numbers of a chain, in the order they are called."""
    return [entry.phone for entry in chain]
