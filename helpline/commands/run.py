"""`serve`, `worker` and `migrate`: running the service."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from helpline.bootstrap import Services, open_services
from helpline.commands.common import CommandError, Subparsers
from helpline.commands.org import StaleFile, load_file
from helpline.db.engine import (
    NotMigrated,
    check_migrated,
    make_engine,
    migrate,
    private_directory,
)
from helpline.jobs import make_worker, running_worker
from helpline.logs import MaskingAccessLogger
from helpline.settings import Settings
from helpline.web.app import create_app
from helpline.web.metrics import serving_metrics
from rota.checks import warnings
from rota.orgfile import OrgFileError

log = logging.getLogger(__name__)


def register(sub: Subparsers) -> None:
    serve = sub.add_parser("serve", help="run the web service (with jobs, by default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 8080")
    serve.add_argument("--no-jobs", action="store_true", help="leave jobs to `helpline worker`")
    serve.set_defaults(handler=serve_command)
    worker = sub.add_parser("worker", help="run the durable jobs only")
    worker.set_defaults(handler=worker_command)
    mig = sub.add_parser("migrate", help="bring the database schema up to date")
    mig.set_defaults(handler=migrate_command)


async def migrate_command(settings: Settings, _args: argparse.Namespace) -> int:
    private_data_dir(settings)
    engine = make_engine(settings.database_url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    print("database is up to date")
    return 0


async def serve_command(settings: Settings, args: argparse.Namespace) -> int:
    port = args.port or settings.port
    if settings.metrics_port == port:
        raise CommandError(f"HELPLINE_METRICS_PORT must not be the public port ({port})")
    check_sandbox(settings)
    private_data_dir(settings)
    async with open_services(settings, freeze_loaded=True) as services:
        await ready_to_serve(services)
        app = create_app(settings, services=services)
        runner = web.AppRunner(app, handle_signals=False, access_log_class=MaskingAccessLogger)
        await runner.setup()
        site = web.TCPSite(runner, args.host, port)
        await site.start()
        log.info("serving on http://%s:%d (sandbox=%s)", args.host, port, settings.sandbox)
        try:
            async with (
                services.refreshing_organisation(),  # no call waits on the register's version
                serving_metrics(services, settings.metrics_host, settings.metrics_port),
            ):
                if args.no_jobs:
                    await _until_signalled()
                else:
                    async with running_worker(services):
                        await _until_signalled()
        finally:
            log.info("shutting down")
            await runner.cleanup()
    return 0


async def worker_command(settings: Settings, _args: argparse.Namespace) -> int:
    check_sandbox(settings)
    private_data_dir(settings)
    async with open_services(settings, freeze_loaded=True) as services:
        await check_migrated(services.engine)
        log.info("worker started")
        async with (
            services.refreshing_organisation(),
            serving_metrics(services, settings.metrics_host, settings.worker_metrics_port),
        ):
            await make_worker(services).start()  # returns on SIGINT/SIGTERM
    return 0


def sandbox_refusal(settings: Settings) -> str | None:
    """Why sandbox mode may not serve at `HELPLINE_PUBLIC_URL`, or None when it may.

    Sandbox webhooks are signed with the public word `sandbox`, so anyone who can reach
    the service can forge calls and messages: only a loopback address over plain HTTP is
    safe, unless `HELPLINE_SANDBOX=1` says the operator means it."""
    if not settings.sandbox or settings.sandbox_allowed or is_private_url(settings.public_url):
        return None
    return (
        f"sandbox mode (no TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN) refused on the public address "
        f"{settings.public_url}: sandbox webhooks are signed with the public word 'sandbox', "
        "so anyone could forge calls and messages. Set the Twilio credentials, use a "
        "loopback http:// HELPLINE_PUBLIC_URL, or set HELPLINE_SANDBOX=1 to allow it"
    )


def is_private_url(url: str) -> bool:
    """Plain http to a loopback host (127.0.0.0/8, ::1, localhost)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http":
        return False
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def private_data_dir(settings: Settings) -> None:
    """Make an existing data directory owner-only (0700); a new one is made so by the
    engine or the embedded Redis, whichever creates it."""
    if not settings.data_dir.exists():
        return
    try:
        private_directory(settings.data_dir)
    except OSError as error:
        raise CommandError(f"cannot make the data directory private: {error}") from None


def check_sandbox(settings: Settings) -> None:
    """Refuse sandbox mode on a public address; warn loudly when it is allowed there."""
    refusal = sandbox_refusal(settings)
    if refusal is not None:
        raise CommandError(refusal)
    if settings.sandbox and not is_private_url(settings.public_url):
        log.warning(
            "SANDBOX MODE ON A PUBLIC ADDRESS (HELPLINE_SANDBOX=1): %s accepts webhooks "
            "signed with the public word 'sandbox' and sends nothing; never use it with "
            "real foster homes",
            settings.public_url,
        )


async def ready_to_serve(services: Services) -> None:
    """Refuse an unmigrated database; load `HELPLINE_ORG_FILE`, keeping the last good
    organisation when the file is broken."""
    try:
        await check_migrated(services.engine)
    except NotMigrated as error:
        raise SystemExit(f"error: {error}") from None
    if services.settings.org_file is not None:
        await _load_org_file(services, services.settings.org_file)
    # Warm the organisation before the port opens: the fallback number is known from the
    # first call on, even if the database fails right after.
    await services.organisation()


async def _load_org_file(services: Services, path: Path) -> None:
    try:
        version, welcomed = await load_file(services, path)
        log.info("loaded %s as version %d; %d new group members welcomed", path, version, welcomed)
        loaded = await services.organisation()
        for warning in warnings(loaded.org) if loaded else ():
            log.warning("HELPLINE_ORG_FILE: %s", warning)
    except (OrgFileError, OSError) as error:
        # Keep serving the last good organisation: a broken file must not stop the phones.
        log.error("HELPLINE_ORG_FILE not loaded, keeping the current organisation:\n%s", error)
    except StaleFile as error:
        # Console edits since the file: keep them. The list of changes names entries
        # (foster home ids among them), so it is not logged; `helpline load` shows it.
        log.error(
            "HELPLINE_ORG_FILE not loaded, keeping the current organisation: the file is"
            " based on version %d, the register is at version %d (edited since); run"
            " `helpline load FILE` to see what changed, `--force` to overwrite it",
            error.base,
            error.current,
        )


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
