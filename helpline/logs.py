"""Logging for every entry point: one root handler that redacts, and quiet libraries.

Taushetsplikt: no log line may carry a secret, a token or an unmasked phone number. The
redaction is a filter on the handler, where every record arrives (a filter on a logger
never sees records propagated from its children), so it covers our code and every
library alike: the known secrets from `Settings`, anything shaped like a secret (bot
tokens, bearer and basic credentials, passwords in URLs, capability tokens in paths and
query strings), PostgreSQL's DETAIL lines (they quote row values), and E.164 numbers,
masked as `rota.phones.mask_phone` does. Libraries that log whole payloads (message texts,
rows, updates) as arguments get those arguments replaced before the line is built.

Noisy libraries stay at WARNING, even with `-v`, unless `HELPLINE_DEBUG_LIBRARIES=1`;
the redaction applies to them either way. `MaskingAccessLogger` is aiohttp's access log
with the same masking, for every server that serves the app.

`HELPLINE_LOG_FORMAT=json` writes one JSON object a line (`JsonFormatter`): the same
redacted message, the web request's id (`REQUEST_ID`, set by
`helpline.web.request_ids`), and only the extra fields named in `SAFE_FIELDS`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from helpline.settings import Settings
from rota.phones import mask_phone

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HIDDEN = "***"
PAYLOAD_HIDDEN = "[payload hidden]"

#: The id of the web request being handled (None outside one); log lines carry it.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
#: The `extra=` fields a JSON line may carry; any other is left out, as it may hold
#: anything (a body, a name). String values are redacted as messages are.
SAFE_FIELDS = ("method", "route", "status", "duration_s", "contact_id", "job", "channel")

#: Libraries kept at WARNING unless library debugging is asked for.
NOISY_LIBRARIES = (
    "aiohttp_retry",
    "aiosqlite",
    "alembic",
    "asyncpg",
    "hpack",
    "httpcore",
    "httpx",
    "multipart",
    "redis",
    "saq",
    "sqlalchemy",
    "telegram",
    "twilio",
    "urllib3",
)
#: Libraries that pass whole payloads as log arguments: python-telegram-bot logs every
#: Bot API call's parameters and result and every update; aiosqlite every statement with
#: its parameters; SQLAlchemy every result row at DEBUG (`hide_parameters` hides only
#: the parameters).
PAYLOAD_LOGGERS = ("aiosqlite", "sqlalchemy", "telegram")

_MIN_SECRET = 6  # shorter "secrets" would mask ordinary words
_SECRET_NAME = r"[\w.-]*(?:token|secret|password|passwd|signature|api[_-]?key)[\w.-]*"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Telegram bot tokens, also inside Bot API URLs (`/bot<id>:<secret>/sendMessage`).
    (re.compile(r"(?<!\d)\d{5,15}:[A-Za-z0-9_-]{30,}"), HIDDEN),
    # Credentials in URLs: scheme://user:password@host.
    (re.compile(r"([a-z][a-z0-9+.-]*://[^\s/:@]*:)[^\s/@]+@", re.I), rf"\1{HIDDEN}@"),
    # Authorization header values.
    (re.compile(r"\b(Bearer|Basic)(\s+|%20|\+)[^\s'\",;&]+", re.I), rf"\1\2{HIDDEN}"),
    # Capability tokens as path segments: calendar feeds and invitation answers.
    (re.compile(r"(/(?:ical|svar)/)[^/\s?#'\"]+?(\.ics)?(?=[/\s?#'\"]|$)"), rf"\1{HIDDEN}\2"),
    # Telegram deep links: `/start <token>`, `?start=<token>`.
    (re.compile(r"(/start(?:@\w+)?(?:\s+|%20|\+))[^\s'\"&]+"), rf"\1{HIDDEN}"),
    (re.compile(r"([?&;](?:start|startgroup|code)=)[^&#\s'\"]+", re.I), rf"\1{HIDDEN}"),
    # Secret-named values: `token=...`, `'secret_token': '...'`, `X-...-Secret-Token: ...`.
    (
        re.compile(rf"(\b{_SECRET_NAME}['\"]?\s*[:=]\s*['\"]?)(?![?$])[^\s'\",;&)}}\]]+", re.I),
        rf"\1{HIDDEN}",
    ),
    # PostgreSQL quotes row values in DETAIL ("Key (x)=(...)", "Failing row contains ...").
    (re.compile(r"(DETAIL:\s+)[^\n]*"), rf"\1{PAYLOAD_HIDDEN}"),
)
# E.164, also URL-encoded (`%2B47...`) or written with single spaces or hyphens.
_PHONE = re.compile(r"(?<!\d)(?:\+|%2B)(\d(?:[ -]?\d){6,14})(?![\d•])", re.I)


class Redactor:
    """Masks known secret values, secret-shaped text and phone numbers in a string."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        known = {s for s in secrets if len(s) >= _MIN_SECRET}
        self._secrets = sorted(known, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, HIDDEN)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return _PHONE.sub(_mask_match, text)


def _mask_match(match: re.Match[str]) -> str:
    return mask_phone("+" + re.sub(r"[ -]", "", match.group(1)))


def settings_secrets(settings: Settings) -> list[str]:
    """The secret values `settings` holds: credentials, and passwords in service URLs."""
    values = [
        settings.telegram_bot_token,
        settings.twilio_auth_token,
        settings.telegram_webhook_secret,
    ]
    for url in (settings.database_url, settings.redis_url):
        if url:
            try:
                values.append(urlsplit(url).password)
            except ValueError:  # a malformed URL: the pattern for URL passwords still applies
                continue
    return [value for value in values if value]


class RedactingFilter(logging.Filter):
    """Renders each record's message, exception and stack redacted; put it on handlers."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and record.name.startswith(PAYLOAD_LOGGERS):
            record.args = _hide_payloads(record.args)
        try:
            message = record.getMessage()
        except Exception:  # a broken log call must not raise here, in the caller's code
            message = f"{record.msg} {PAYLOAD_HIDDEN} (arguments did not fit the message)"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _hide_payloads(
    args: tuple[object, ...] | Mapping[str, object],
) -> tuple[object, ...] | dict[str, object]:
    if isinstance(args, Mapping):
        return {key: _scalar_or_hidden(value) for key, value in args.items()}
    return tuple(_scalar_or_hidden(value) for value in args)


class _Hidden:
    """Stands in for a payload argument, as `%s` and as `%r`."""

    def __repr__(self) -> str:
        return PAYLOAD_HIDDEN

    __str__ = __repr__


def _scalar_or_hidden(value: object) -> object:
    return value if value is None or isinstance(value, str | int | float) else _Hidden()


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current web request's id (`REQUEST_ID`), unless the
    record brought its own (the access log names the request it logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request_id, the
    exception if any, and the `SAFE_FIELDS` the record has. Put it behind the
    `RedactingFilter`, which has redacted the message and the exception by then."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name in SAFE_FIELDS:
            if name in record.__dict__:
                line[name] = self._safe(record.__dict__[name])
        if record.exc_info and not record.exc_text:
            record.exc_text = self.redact(self.formatException(record.exc_info))
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)

    def _safe(self, value: object) -> object:
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.redact(str(value))


class HelplineHandler(logging.StreamHandler[TextIO]):
    """The handler `configure_logging` installs (a second call replaces it)."""


class _StderrHandler(HelplineHandler):
    """Writes to whatever `sys.stderr` is at the time of each record, as
    `logging.lastResort` does (so a replaced stderr, e.g. under pytest, is followed)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:  # type: ignore[override]  # read-only: the current stderr
        return sys.stderr


def configure_logging(
    settings: Settings,
    *,
    verbose: bool = False,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Install the one redacting root handler (replacing one installed before), at DEBUG
    when `verbose`, with noisy libraries at WARNING unless `settings.debug_libraries`."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, HelplineHandler)]:
        root.removeHandler(old)
    handler = _StderrHandler() if stream is None else HelplineHandler(stream)
    redactor = Redactor(settings_secrets(settings))
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter(redactor))
    else:
        handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter(redactor))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    library_level = logging.NOTSET if settings.debug_libraries else logging.WARNING
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(library_level)
    return handler


#: Where `helpline.web.request_ids` keeps a request's id for the access log, which runs
#: after the handler, outside the request's `REQUEST_ID` context.
ACCESS_REQUEST_ID = web.RequestKey("request_id", str)


class MaskingAccessLogger(AbstractAccessLogger):
    """aiohttp's access log with capability tokens in paths and query strings masked.

    Use it wherever the app is served: `web.AppRunner(app, access_log_class=...)`, or
    `TestServer(app, access_log_class=...)` in tests. Logs no header but the user agent."""

    redact = Redactor()

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        match_info = getattr(request, "match_info", None)  # a web.Request's; BaseRequest has none
        resource = match_info.route.resource if match_info is not None else None
        fields = {
            "request_id": request.get(ACCESS_REQUEST_ID),
            "method": request.method,
            "route": resource.canonical if resource is not None else None,
            "status": response.status,
            "duration_s": round(time, 6),
        }
        self.logger.info(
            '%s "%s %s HTTP/%d.%d" %d %d %.3fs "%s"',
            request.remote or "-",
            request.method,
            self.redact(request.raw_path),
            request.version.major,
            request.version.minor,
            response.status,
            response.body_length,
            time,
            self.redact(request.headers.get("User-Agent", "-")),
            extra=fields,
        )
