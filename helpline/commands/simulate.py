"""`simulate call|sms`: play the phone network against a running service, no phone needed."""

from __future__ import annotations

import argparse
import sys

import aiohttp

from helpline.commands.common import CommandError, Subparsers
from helpline.db.engine import NotMigrated, check_migrated, make_engine, sessionmaker
from helpline.settings import Settings
from helpline.simulator import (
    DEFAULT_MAX_REQUESTS,
    SANDBOX_ACCOUNT_SID,
    AnswerPolicy,
    Endpoint,
    PolicyError,
    ServiceUnreachable,
    simulate_call,
)
from helpline.simulator.outbox import ServiceOutbox
from helpline.simulator.sms import simulate_sms
from helpline.simulator.transcript import Record
from helpline.web.twilio_auth import signing_token
from rota.phones import InvalidPhone, normalise_phone

#: The demo organisation's helpline number for Asker (`helpline demo`).
DEFAULT_TO = "+4767000001"

_SIGNING = """\
Requests go to --url; signatures are computed over HELPLINE_PUBLIC_URL, as the service
checks them, with TWILIO_AUTH_TOKEN or, in sandbox mode, the sandbox token."""

_CALL_EPILOG = f"""\
answer policy (--answer): `none`, or comma-separated terms [decline:]TARGET where TARGET
is `all`, an ordinal (first..fifth: the Nth number rung in the call) or a phone number.
  none                      nobody picks up
  all                       everyone picks up and presses 1 (the first one rung wins)
  first, second, ... fifth  the Nth number rung in the call picks up and presses 1
  +4791234567,+4791234568   these numbers pick up and press 1
  decline:first             picks up, hears the screening, presses nothing
  A number's own term beats an ordinal, which beats `all`.

{_SIGNING}
Exit status: 0 when the call ended normally, 1 when the service failed (HTTP error,
invalid TwiML, a loop or a failed status callback), 2 on bad arguments or when the
service cannot be reached."""

_SMS_EPILOG = f"""\
What the service sent back out (the receipt to the sender, the notification to whoever is
on duty, replies) is read from its outbox in the database of HELPLINE_DATABASE_URL (or the
data directory): run this with the service's settings. In sandbox mode the outbox is the
delivery. Escalations after the deadline come later and are not waited for.

{_SIGNING}
Exit status: 0 when the service took the message, 1 when it failed (HTTP error or invalid
TwiML), 2 on bad arguments or when the service cannot be reached."""


def register(sub: Subparsers) -> None:
    simulate = sub.add_parser("simulate", help="play the phone network against the service")
    what = simulate.add_subparsers(dest="what", required=True, metavar="WHAT")
    call = _add_common(
        what.add_parser(
            "call",
            help="ring the helpline as a foster parent would",
            description="Ring the helpline and follow the call through the running service.",
            epilog=_CALL_EPILOG,
        ),
        "caller",
        "the caller's phone",
        "the helpline number rung",
    )
    call.add_argument(
        "--answer",
        default="first",
        metavar="POLICY",
        help="who picks up (default: first); see below",
    )
    call.add_argument(
        "--max-requests",
        type=int,
        default=DEFAULT_MAX_REQUESTS,
        metavar="N",
        help=f"stop a call after N webhook requests (default: {DEFAULT_MAX_REQUESTS})",
    )
    call.set_defaults(handler=call_command)
    sms = _add_common(
        what.add_parser(
            "sms",
            help="text the helpline as a foster parent or staff member would",
            description="Text the helpline and show what the service sends back out.",
            epilog=_SMS_EPILOG,
        ),
        "sender",
        "the sender's phone",
        "the helpline number texted",
    )
    sms.add_argument("text", metavar="TEXT", help="the message, e.g. 'Hei, kan noen ringe oss?'")
    sms.set_defaults(handler=sms_command)


def _add_common(
    parser: argparse.ArgumentParser, dest: str, sender: str, line: str
) -> argparse.ArgumentParser:
    """The options of every WHAT: who, to which line, where the service is, what to show."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--from",
        dest=dest,
        required=True,
        metavar="NUMBER",
        help=f"{sender}, e.g. a foster parent's (+4798765432 in the demo)",
    )
    parser.add_argument(
        "--to",
        dest="called",
        default=DEFAULT_TO,
        metavar="NUMBER",
        help=f"{line} (default: {DEFAULT_TO}, Asker in the demo)",
    )
    parser.add_argument(
        "--url", metavar="BASE", help="where the service listens (default: HELPLINE_PUBLIC_URL)"
    )
    parser.add_argument(
        "--show-requests", action="store_true", help="list the webhook requests in between"
    )
    return parser


async def call_command(settings: Settings, args: argparse.Namespace) -> int:
    caller = _phone(args.caller, "--from")
    called = _phone(args.called, "--to")
    try:
        policy = AnswerPolicy.parse(args.answer)
    except PolicyError as error:
        raise CommandError(f"--answer: {error}") from None
    if args.max_requests < 1:
        raise CommandError("--max-requests must be at least 1")
    endpoint = _endpoint(settings, args, "a call", f"answer: {args.answer}; ")
    async with aiohttp.ClientSession() as session:
        try:
            transcript = await simulate_call(
                session,
                endpoint,
                caller=caller,
                called=called,
                policy=policy,
                max_requests=args.max_requests,
            )
        except ServiceUnreachable as error:
            raise CommandError(f"{error}; is `helpline serve` running there?") from None
    return _report(transcript, args)


async def sms_command(settings: Settings, args: argparse.Namespace) -> int:
    sender = _phone(args.sender, "--from")
    to = _phone(args.called, "--to")
    engine = make_engine(settings.database_url)
    try:
        try:
            await check_migrated(engine)
        except NotMigrated as error:
            raise CommandError(f"cannot read the service's outbox: {error}") from None
        endpoint = _endpoint(settings, args, "an SMS")
        outbox = ServiceOutbox(sessionmaker(engine))
        async with aiohttp.ClientSession() as session:
            transcript = await simulate_sms(
                session, endpoint, outbox, sender=sender, to=to, body=args.text
            )
    except ServiceUnreachable as error:
        raise CommandError(f"{error}; is `helpline serve` running there?") from None
    finally:
        await engine.dispose()
    return _report(transcript, args)


def _endpoint(
    settings: Settings, args: argparse.Namespace, what: str, detail: str = ""
) -> Endpoint:
    """Where the service is and how to sign for it; says what is simulated where."""
    endpoint = Endpoint.at(
        args.url or settings.public_url,
        public_url=settings.public_url,
        auth_token=signing_token(settings),
        account_sid=settings.twilio_account_sid or SANDBOX_ACCOUNT_SID,
    )
    signing = "TWILIO_AUTH_TOKEN" if settings.twilio_auth_token else "the sandbox token"
    print(
        f"simulating {what} to the service at {endpoint.base_url} "
        f"({detail}signed for {settings.public_url} with {signing})"
    )
    return endpoint


def _report(record: Record, args: argparse.Namespace) -> int:
    print(record.render(with_requests=args.show_requests))
    if not record.ok:
        rule = "!" * 72
        print(f"\n{rule}\n{record.outcome.upper()}: {record.error}\n{rule}", file=sys.stderr)
        return 1
    return 0


def _phone(text: str, option: str) -> str:
    try:
        return normalise_phone(text)
    except InvalidPhone as error:
        raise CommandError(f"{option}: {error}") from None
