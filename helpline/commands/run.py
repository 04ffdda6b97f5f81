"""`serve`, `worker` and `migrate`: running the service."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path

from aiohttp import web

from helpline.bootstrap import Services, open_services
from helpline.commands.common import Subparsers
from helpline.commands.org import load_file
from helpline.db.engine import NotMigrated, check_migrated, make_engine, migrate
from helpline.jobs import make_worker, running_worker
from helpline.settings import Settings
from helpline.web.app import create_app
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
    engine = make_engine(settings.database_url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    print("database is up to date")
    return 0


async def serve_command(settings: Settings, args: argparse.Namespace) -> int:
    port = args.port or settings.port
    async with open_services(settings) as services:
        await ready_to_serve(services)
        app = create_app(settings, services=services)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, args.host, port)
        await site.start()
        log.info("serving on http://%s:%d (sandbox=%s)", args.host, port, settings.sandbox)
        try:
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
    async with open_services(settings) as services:
        await check_migrated(services.engine)
        log.info("worker started")
        await make_worker(services).start()  # returns on SIGINT/SIGTERM
    return 0


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
        version = await load_file(services, path)
        log.info("loaded %s as version %d", path, version)
        loaded = await services.organisation()
        for warning in warnings(loaded.org) if loaded else ():
            log.warning("HELPLINE_ORG_FILE: %s", warning)
    except (OrgFileError, OSError) as error:
        # Keep serving the last good organisation: a broken file must not stop the phones.
        log.error("HELPLINE_ORG_FILE not loaded, keeping the current organisation:\n%s", error)


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
