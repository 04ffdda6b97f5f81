"""Invitations at scale (issue 10): `python -m bench.events [--database-url URL] ...`.

One event for 2,000 foster homes with capacity 300. Every invitation goes through the
paced lane (a saq worker in this process) to a fake Twilio; then 1,500 answers arrive as
signed SMS webhooks over HTTP at 50 concurrent, with retried webhooks and changed answers
mixed in; then 200 homes that said yes cancel, which drives the waitlist. Reported: the
time to send the invitations against the configured rate, answer webhook p50/p99, the most
people ever on yes against capacity (sampled throughout), whether the waitlist kept its
order, and offers per freed place with duplicates.

The service's clock is the real one moved to a Monday noon in Oslo, so quiet hours never
hold the run. Without `--database-url` it runs on SQLite and the embedded Redis in a
temporary directory; PostgreSQL is the target (`postgresql+asyncpg://...`, a database of
its own: its schema is dropped and made anew).
"""

from bench.events.drive import main

raise SystemExit(main())
