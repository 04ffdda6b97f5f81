"""Benchmark message escalation: 1,000 conversations at once, nobody answers.

    .venv/bin/python -m bench.escalation [--conversations 1000] [--deadline 5] [--json]
        [--embedded] [--kill-worker [--kill-at half-opened|before-deadline|escalating]]
        [--workers 1] [--concurrency 50] [--database-url URL] [--redis-url URL]
        [--timeout 300] [--logs DIR]

The service runs as processes of its own, in sandbox mode (no Twilio credentials: the
outbox is the delivery): `helpline serve --no-jobs` for the webhooks and `helpline worker`
for the durable deadline jobs. Stores: PostgreSQL and Redis (default: database `test` and
Redis db 13 on 127.0.0.1, both WIPED first; `--database-url` must name a PostgreSQL
database for the same reason) or, with `--embedded`, SQLite and the embedded
Redis in a temporary directory (the benchmark starts that Redis itself, so it owns and
stops it whichever service process is killed).

The organisation is the demo one (`helpline/demo.toml`) with `message_deadline` set to
`--deadline` seconds and one extra foster home per conversation (`bench-0001`, ... with
unique Norwegian mobile numbers, spread over the demo kommuner). Each conversation is one
signed `POST /twilio/sms` from a different foster home with its own MessageSid, sent by
`--concurrency` clients at once.

How lateness and "exactly once" are measured, from the database after the run:

* A conversation's first deadline falls at `started_at + deadline`: `started_at` is the
  instant the webhook opened it, the same instant its `last_notified_at` got when the first
  staff member was notified.
* Its escalation is the first `outbox` row of kind "notify" to the second person of its
  frozen chain (`message_plan`); lateness = that row's `created_at` - the due time. The
  demo chains never repeat a phone (checked before the run), so rows to that phone are
  exactly the step-2 notifications: a doubled escalation shows as a second such row, and
  the later step-3 notification (to the third person) is never mistaken for one.
* Observation ends when every conversation has escalated and one more deadline has passed
  since the last escalation (a duplicate run of a job would have shown by then), or at the
  latest after `sweep_conversations` (every minute) would have rescued a lost deadline.
  Escalated exactly once = one such row per conversation then.

Where the lateness goes is read from the deadline timer's journal
(`helpline.timers.journal`, see `bench.escalation.stages`): the part that fell due before
the webhook put the deadline on the timer, the wait on the timer (its poll, and a backlog
when the workers are busy), the wait for a free slot, and the job until the escalation
was stored. Deadlines taken again after their worker died are counted apart ("rescued").

Targets: p99 lateness <= 1 s, with or without `--kill-worker`, and a rescued deadline
< 30 s late; a missed target is marked MISSED, not fatal. Exit status 2 when a
conversation escalated zero times or more than once, a webhook failed, or the service
could not be set up; otherwise 0. Everything runs on 127.0.0.1 and stops within
`--timeout` seconds (default 300); the service processes are always stopped.
"""

from __future__ import annotations

from bench.escalation.cli import main
from bench.escalation.drive import SANDBOX_TOKEN
from bench.escalation.org import (
    BENCH_HOME_PREFIX,
    BenchHome,
    bench_org,
    bench_phones,
    check_chains,
    with_deadline,
)
from bench.escalation.verdicts import Verdict, judge_conversation, summarise

__all__ = [
    "BENCH_HOME_PREFIX",
    "SANDBOX_TOKEN",
    "BenchHome",
    "Verdict",
    "bench_org",
    "bench_phones",
    "check_chains",
    "judge_conversation",
    "main",
    "summarise",
    "with_deadline",
]
