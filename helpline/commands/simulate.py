"""`simulate call`: play the phone network against a running service, no phone needed.

`simulate sms` (DESIGN.md) will join `call` as a second WHAT under `simulate`.
"""

from __future__ import annotations

import argparse
import sys

import aiohttp

from helpline.commands.common import CommandError, Subparsers
from helpline.settings import Settings
from helpline.simulator import (
    DEFAULT_MAX_REQUESTS,
    SANDBOX_ACCOUNT_SID,
    AnswerPolicy,
    PolicyError,
    ServiceUnreachable,
    Transcript,
    simulate_call,
)
from helpline.web.twilio_auth import signing_token
from rota.phones import InvalidPhone, normalise_phone

#: The demo organisation's helpline number for Asker (`helpline demo`).
DEFAULT_TO = "+4767000001"

_CALL_EPILOG = """\
answer policy (--answer): `none`, or comma-separated terms [decline:]TARGET where TARGET
is `all`, an ordinal (first..fifth: the Nth number rung in the call) or a phone number.
  none                      nobody picks up
  all                       everyone picks up and presses 1 (the first one rung wins)
  first, second, ... fifth  the Nth number rung in the call picks up and presses 1
  +4791234567,+4791234568   these numbers pick up and press 1
  decline:first             picks up, hears the screening, presses nothing
  A number's own term beats an ordinal, which beats `all`.

Requests go to --url; signatures are computed over HELPLINE_PUBLIC_URL, as the service
checks them, with TWILIO_AUTH_TOKEN or, in sandbox mode, the sandbox token.
Exit status: 0 when the call ended normally, 1 when the service failed (HTTP error,
invalid TwiML, a loop or a failed status callback), 2 on bad arguments or when the
service cannot be reached."""


def register(sub: Subparsers) -> None:
    simulate = sub.add_parser("simulate", help="play the phone network against the service")
    what = simulate.add_subparsers(dest="what", required=True, metavar="WHAT")
    call = what.add_parser(
        "call",
        help="ring the helpline as a foster parent would",
        description="Ring the helpline and follow the call through the running service.",
        epilog=_CALL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    call.add_argument(
        "--from", dest="caller", required=True, metavar="NUMBER",
        help="the caller's phone, e.g. a foster parent's (+4798765432 in the demo)",
    )  # fmt: skip
    call.add_argument(
        "--to", dest="called", default=DEFAULT_TO, metavar="NUMBER",
        help=f"the helpline number rung (default: {DEFAULT_TO}, Asker in the demo)",
    )  # fmt: skip
    call.add_argument(
        "--answer", default="first", metavar="POLICY",
        help="who picks up (default: first); see below",
    )  # fmt: skip
    call.add_argument(
        "--url", metavar="BASE", help="where the service listens (default: HELPLINE_PUBLIC_URL)"
    )
    call.add_argument(
        "--max-requests", type=int, default=DEFAULT_MAX_REQUESTS, metavar="N",
        help=f"stop a call after N webhook requests (default: {DEFAULT_MAX_REQUESTS})",
    )  # fmt: skip
    call.add_argument(
        "--show-requests", action="store_true", help="list the webhook requests in between"
    )
    call.set_defaults(handler=call_command)


async def call_command(settings: Settings, args: argparse.Namespace) -> int:
    caller = _phone(args.caller, "--from")
    called = _phone(args.called, "--to")
    try:
        policy = AnswerPolicy.parse(args.answer)
    except PolicyError as error:
        raise CommandError(f"--answer: {error}") from None
    if args.max_requests < 1:
        raise CommandError("--max-requests must be at least 1")
    base_url = (args.url or settings.public_url).rstrip("/")
    signing = "TWILIO_AUTH_TOKEN" if settings.twilio_auth_token else "the sandbox token"
    print(
        f"simulating a call to the service at {base_url} (answer: {args.answer}; "
        f"signed for {settings.public_url} with {signing})"
    )
    async with aiohttp.ClientSession() as session:
        try:
            transcript = await simulate_call(
                session,
                base_url=base_url,
                public_url=settings.public_url,
                caller=caller,
                called=called,
                policy=policy,
                auth_token=signing_token(settings),
                account_sid=settings.twilio_account_sid or SANDBOX_ACCOUNT_SID,
                max_requests=args.max_requests,
            )
        except ServiceUnreachable as error:
            raise CommandError(f"{error}; is `helpline serve` running there?") from None
    print(transcript.render(with_requests=args.show_requests))
    if not transcript.ok:
        print(_failure_banner(transcript), file=sys.stderr)
        return 1
    return 0


def _phone(text: str, option: str) -> str:
    try:
        return normalise_phone(text)
    except InvalidPhone as error:
        raise CommandError(f"{option}: {error}") from None


def _failure_banner(transcript: Transcript) -> str:
    rule = "!" * 72
    return f"\n{rule}\n{transcript.outcome.upper()}: {transcript.error}\n{rule}"
