"""Benchmark a broadcast: N recipients at a configured SMS rate, a worker SIGKILLed midway,
help messages arriving throughout.

    .venv/bin/python -m bench.broadcast [--recipients 10000] [--rate 50]
        [--telegram-share 0.2] [--helps 100] [--no-kill] [--json]
        [--database-url URL] [--redis-url URL] [--embedded] [--timeout 1800] [--logs DIR]

The service runs as processes of its own: `helpline serve --no-jobs` (webhooks, status
callbacks) and two `helpline worker`s (the paced sending lanes), with live Twilio and
Telegram channels pointed at fakes inside this process: a fake Twilio that records each
message's arrival and posts signed `sent` and `delivered` status callbacks, and a fake Bot
API that records arrivals. Stores: PostgreSQL and Redis (default: database `test` and Redis
db 12 on 127.0.0.1, both WIPED first; pass your own) or `--embedded`.

The organisation is the demo one with `--recipients` generated foster homes in one nettverk
(the audience, `group:benk`; every 1/share-th linked on Telegram) and `--helps` more. The
broadcast is made with `helpline broadcast send`; while it goes out, each help home sends
one signed SMS to Asker's line, spread over the expected duration. Once half the audience
has it, the worker using the most CPU (the one sending) is SIGKILLed (not restarted): its
lanes are revived by the other worker's, and its claims are taken back after their lease
(60 s) and looked up at Twilio.

The rate is per sending number (one bucket each); the broadcast goes out from the network
number, so all its SMS share one bucket, and the figures are given for each number seen.
The default rate, 50 segments/s, sends the 8,000 SMS in under 3 minutes; at the service's
own default (10) they take over 13, so run that one with fewer recipients.

Reported: the SMS rate achieved by first attempts, (segments - first) / span, against the
configured one (aim: within 2 %); the most segments in any 1 s window (never above rate +
burst = 2 x rate), both per sending number; the same for Telegram (under 30/s); exactly
once per recipient; the latency from each help webhook to its receipt SMS at the fake
(aim: p99 < 1 s); the peak RSS of each process. Exit status 2 when an SMS recipient did
not get it exactly once, a Telegram one got it twice, a help webhook failed, or the run
did not finish in time.
"""

from bench.broadcast.cli import main

__all__ = ["main"]
