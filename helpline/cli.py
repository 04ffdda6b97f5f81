"""The `helpline` command line. Operator-facing: messages are in English."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from helpline.commands import (
    access,
    broadcast,
    calendars,
    duty,
    events,
    groups,
    log,
    org,
    retention,
    run,
    simulate,
    telegram,
    tokens,
)
from helpline.commands.common import CommandError
from helpline.logs import configure_logging
from helpline.settings import Settings, SettingsError, read_dotenv


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="helpline", description="Fosterhjemstelefonen: the helpline service."
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="debug logging (libraries too with HELPLINE_DEBUG_LIBRARIES=1)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run.register(sub)
    org.register(sub)
    duty.register(sub)
    calendars.register(sub)
    log.register(sub)
    tokens.register(sub)
    access.register(sub)
    telegram.register(sub)
    simulate.register(sub)
    retention.register(sub)
    groups.register(sub)
    broadcast.register(sub)
    events.register(sub)
    return parser


def load_settings(environ: dict[str, str]) -> Settings:
    """Settings from `.env` in the working directory, overridden by the environment."""
    return Settings.from_mapping({**read_dotenv(Path(".env")), **environ})


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(dict(os.environ))
        configure_logging(settings, verbose=args.verbose)
        result: int = asyncio.run(args.handler(settings, args))
        sys.stdout.flush()  # a pipe is block-buffered: the write that fails may be this one
        return result
    except (CommandError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _stdout_closed()
    except KeyboardInterrupt:
        return 130


def _stdout_closed() -> int:
    """The reader left early (`helpline calendars | head -1`): end quietly, as `head` expects.

    Python's recipe (the `signal` docs, "Note on SIGPIPE"): point stdout at devnull, so the
    flush at exit of what is still buffered cannot fail again. 141 is what a shell reports
    for a program ended by SIGPIPE.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141


if __name__ == "__main__":
    sys.exit(main())
