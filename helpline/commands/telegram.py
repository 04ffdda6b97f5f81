"""`link telegram` and `telegram set-webhook`: connecting Telegram."""

from __future__ import annotations

import argparse

from helpline.bootstrap import open_services
from helpline.commands.common import CommandError, Subparsers, require_org
from helpline.db.engine import check_migrated
from helpline.linking import create_link_token
from helpline.settings import Settings
from rota.model import Organisation
from routing import message_texts as say

WEBHOOK_PATH = "/telegram/webhook"


def register(sub: Subparsers) -> None:
    link = sub.add_parser("link", help="one-time links that connect accounts")
    link_sub = link.add_subparsers(dest="link_command", required=True, metavar="CHANNEL")
    telegram = link_sub.add_parser("telegram", help="a Telegram deep link, sent by SMS")
    who = telegram.add_mutually_exclusive_group(required=True)
    who.add_argument("--foster-home", metavar="ID")
    who.add_argument("--person", metavar="ID")
    telegram.add_argument("--no-sms", action="store_true", help="only print the link")
    telegram.set_defaults(handler=link_telegram_command)
    bot = sub.add_parser("telegram", help="the Telegram bot")
    bot_sub = bot.add_subparsers(dest="telegram_command", required=True, metavar="ACTION")
    hook = bot_sub.add_parser("set-webhook", help="register HELPLINE_PUBLIC_URL/telegram/webhook")
    hook.set_defaults(handler=set_webhook_command)


async def link_telegram_command(settings: Settings, args: argparse.Namespace) -> int:
    kind, target = ("person", args.person) if args.person else ("foster_home", args.foster_home)
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        loaded = await require_org(services)
        phones, line = _recipient(loaded.org, kind, target)
        bot_name = (
            services.telegram.bot_username if services.telegram else settings.telegram_bot_username
        )
        async with services.sessions() as session, session.begin():
            token, expires = await create_link_token(session, kind, target, services.clock())
            url = f"https://t.me/{bot_name}?start={token}"
            text = say.telegram_link_sms(url, expires, loaded.org.helpline.timezone)
            texted = [] if args.no_sms else phones
            rows = [
                services.outbox.queue(
                    session,
                    channel="sms",
                    to=phone,
                    sender=line,
                    body=text,
                    contact_id=None,
                    kind="link",
                )
                for phone in texted
            ]
        await services.outbox.deliver([row.id for row in rows])
    print(url)
    if rows:
        print(f"sent by SMS to {len(rows)} number(s); expires {expires.isoformat()}")
    return 0


def _recipient(org: Organisation, kind: str, target: str) -> tuple[list[str], str]:
    """Who gets the link SMS, and from which helpline number."""
    numbers = [n for k in org.kommuner for n in k.numbers]
    if kind == "person":
        person = next((p for p in org.people if p.id == target), None)
        if person is None:
            raise CommandError(f"unknown person {target!r}")
        return [person.phone], numbers[0] if numbers else ""
    home = next((h for h in org.foster_homes if h.id == target), None)
    if home is None:
        raise CommandError(f"unknown foster home {target!r}")
    kommune = next((k for k in org.kommuner if k.id == home.kommune), None)
    line = kommune.numbers[0] if kommune and kommune.numbers else (numbers[0] if numbers else "")
    return list(home.phones), line


async def set_webhook_command(settings: Settings, _args: argparse.Namespace) -> int:
    if settings.telegram_bot_token is None or settings.telegram_webhook_secret is None:
        raise CommandError("set TELEGRAM_BOT_TOKEN and HELPLINE_TELEGRAM_WEBHOOK_SECRET first")
    async with open_services(settings, with_redis=False) as services:
        assert services.telegram is not None
        url = settings.public_url + WEBHOOK_PATH
        await services.telegram.set_webhook(url, settings.telegram_webhook_secret)
    print(f"webhook set to {url}")
    return 0
