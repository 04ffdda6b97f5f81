"""Settings: one immutable object built from a mapping (the environment, a `.env` file).

Nothing is read at import time; `Settings.from_mapping(os.environ)` is called by the
composition root, and tests pass a plain dict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path

from rota.orgfile.values import parse_duration, parse_time
from rota.phones import InvalidPhone, normalise_phone

DEFAULT_CATEGORIES = "samvær,skole,helse,atferd,økonomi,akutt,annet"
LOG_FORMATS = ("text", "json")  # the first is the default


class SettingsError(ValueError):
    """A setting is missing or malformed (operator-facing, English)."""


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None  # None: start the embedded Redis in data_dir
    public_url: str
    org_file: Path | None
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_api_base: str
    telegram_bot_token: str | None
    telegram_api_base: str
    telegram_webhook_secret: str | None
    port: int
    fallback_phone: str | None  # dialled when nothing can be looked up
    default_kommune: str | None  # for callers whose number and dialled number are unknown
    dial_timeout: int  # seconds each number rings
    voicemail_max_seconds: int
    voice: str  # Twilio <Say> voice for nb-NO
    categories: tuple[str, ...]  # closing categories of a conversation
    coordinators: tuple[str, ...]  # phones alerted when nobody takes a message
    telegram_bot_username: str  # for deep links when the bot is not reachable (sandbox)
    followup_batch: int  # seconds: at most one follow-up notice per conversation this often
    unknown_per_hour: int  # new conversations from unknown numbers per helpline number/hour
    retention_days: int  # days message bodies, recordings and unknown numbers are kept
    sandbox_allowed: bool = False  # HELPLINE_SANDBOX: sandbox even on a public address
    debug_libraries: bool = False  # HELPLINE_DEBUG_LIBRARIES: let noisy libraries log
    sms_rate: int = 10  # HELPLINE_SMS_RATE: SMS segments per second per sending number
    log_format: str = "text"  # HELPLINE_LOG_FORMAT: "text" or "json" (one object a line)
    metrics_host: str = "127.0.0.1"  # HELPLINE_METRICS_HOST: where /metrics listens
    metrics_port: int | None = None  # HELPLINE_METRICS_PORT: serve's /metrics; None: off
    worker_metrics_port: int | None = None  # HELPLINE_WORKER_METRICS_PORT: the worker's
    console_idle_minutes: int = 30  # HELPLINE_CONSOLE_IDLE: console logout after idle minutes
    cookie_secure: bool = False  # HELPLINE_COOKIE_SECURE: default on under an https public URL
    login_per_number: int = 5  # HELPLINE_LOGIN_PER_NUMBER: login codes per number per hour
    login_per_ip: int = 30  # HELPLINE_LOGIN_PER_IP: login requests per client address per hour
    waitlist_claim: timedelta = timedelta(hours=24)  # HELPLINE_WAITLIST_CLAIM: offers stand
    event_reminder_at: time = time(12)  # HELPLINE_EVENT_REMINDER_AT: the day-before reminder

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from `env`; empty values count as unset."""
        get = _reader(env)
        data_dir = Path(get("HELPLINE_DATA_DIR") or "./var").resolve()
        token = get("TELEGRAM_BOT_TOKEN")
        secret = get("HELPLINE_TELEGRAM_WEBHOOK_SECRET")
        if token and not secret:
            raise SettingsError(
                "HELPLINE_TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_BOT_TOKEN is set"
            )
        sid, auth = get("TWILIO_ACCOUNT_SID"), get("TWILIO_AUTH_TOKEN")
        if bool(sid) != bool(auth):
            raise SettingsError("set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or neither")
        org_file = get("HELPLINE_ORG_FILE")
        port = _port(get("PORT") or "8080")
        metrics_port, worker_metrics_port = _metrics_ports(get, port)
        public_url = (get("HELPLINE_PUBLIC_URL") or "http://127.0.0.1:8080").rstrip("/")
        secure = get("HELPLINE_COOKIE_SECURE")
        return cls(
            data_dir=data_dir,
            database_url=get("HELPLINE_DATABASE_URL") or _sqlite_url(data_dir),
            redis_url=get("HELPLINE_REDIS_URL"),
            public_url=public_url,
            org_file=Path(org_file) if org_file else None,
            twilio_account_sid=sid,
            twilio_auth_token=auth,
            twilio_api_base=(get("HELPLINE_TWILIO_API_BASE") or "https://api.twilio.com"),
            telegram_bot_token=token,
            telegram_api_base=(get("HELPLINE_TELEGRAM_API_BASE") or "https://api.telegram.org"),
            telegram_webhook_secret=secret,
            port=port,
            fallback_phone=_phone_setting(get("HELPLINE_FALLBACK_PHONE")),
            default_kommune=get("HELPLINE_DEFAULT_KOMMUNE"),
            dial_timeout=_seconds(get("HELPLINE_DIAL_TIMEOUT") or "20", "HELPLINE_DIAL_TIMEOUT"),
            voicemail_max_seconds=_seconds(
                get("HELPLINE_VOICEMAIL_MAX_SECONDS") or "120", "HELPLINE_VOICEMAIL_MAX_SECONDS"
            ),
            voice=get("HELPLINE_VOICE") or "Polly.Liv",
            categories=_words(get("HELPLINE_CATEGORIES") or DEFAULT_CATEGORIES),
            coordinators=tuple(
                _phone_setting(p, "HELPLINE_COORDINATORS") or ""
                for p in _words(get("HELPLINE_COORDINATORS") or "")
            ),
            telegram_bot_username=get("HELPLINE_TELEGRAM_BOT_USERNAME")
            or "Fosterhjemstelefonen_bot",
            followup_batch=_whole(get, "HELPLINE_FOLLOWUP_BATCH", 60, 5, 3600),
            unknown_per_hour=_whole(get, "HELPLINE_UNKNOWN_PER_HOUR", 10, 1, 10_000),
            retention_days=_whole(get, "HELPLINE_RETENTION_DAYS", 90, 1, 3650),
            sandbox_allowed=_flag(get("HELPLINE_SANDBOX"), "HELPLINE_SANDBOX"),
            debug_libraries=_flag(get("HELPLINE_DEBUG_LIBRARIES"), "HELPLINE_DEBUG_LIBRARIES"),
            sms_rate=_whole(get, "HELPLINE_SMS_RATE", 10, 1, 1000),
            log_format=_choice(get, "HELPLINE_LOG_FORMAT", LOG_FORMATS),
            metrics_host=get("HELPLINE_METRICS_HOST") or "127.0.0.1",
            metrics_port=metrics_port,
            worker_metrics_port=worker_metrics_port,
            console_idle_minutes=_whole(get, "HELPLINE_CONSOLE_IDLE", 30, 1, 720),
            cookie_secure=(
                _flag(secure, "HELPLINE_COOKIE_SECURE")
                if secure is not None
                else public_url.startswith("https://")
            ),
            login_per_number=_whole(get, "HELPLINE_LOGIN_PER_NUMBER", 5, 1, 100),
            login_per_ip=_whole(get, "HELPLINE_LOGIN_PER_IP", 30, 1, 10_000),
            waitlist_claim=_claim(get("HELPLINE_WAITLIST_CLAIM") or "24h"),
            event_reminder_at=_clock_time(get("HELPLINE_EVENT_REMINDER_AT") or "12:00"),
        )

    @property
    def sandbox(self) -> bool:
        """No Twilio credentials: outgoing calls and messages go to the outbox."""
        return self.twilio_account_sid is None


def read_dotenv(path: Path) -> dict[str, str]:
    """`KEY=value` lines of a `.env` file (quotes stripped, comments skipped)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def _reader(env: Mapping[str, str]) -> Callable[[str], str | None]:
    def get(key: str) -> str | None:
        value = env.get(key, "").strip()
        return value or None

    return get


def _sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'helpline.db'}"


def _phone_setting(text: str | None, name: str = "HELPLINE_FALLBACK_PHONE") -> str | None:
    if text is None:
        return None
    try:
        return normalise_phone(text)
    except InvalidPhone as error:
        raise SettingsError(f"{name}: {error}") from None


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(",") if word.strip())


def _flag(text: str | None, name: str) -> bool:
    if text is None:
        return False
    value = text.lower()
    if value not in _TRUE + _FALSE:
        raise SettingsError(f"{name} must be 1 or 0 (true/false, yes/no), got {text!r}")
    return value in _TRUE


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _seconds(text: str, name: str) -> int:
    if not text.isdigit() or not 5 <= int(text) <= 600:
        raise SettingsError(f"{name} must be whole seconds from 5 to 600, got {text!r}")
    return int(text)


def _port(text: str, name: str = "PORT") -> int:
    try:
        port = int(text)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {text!r}") from None
    if not 0 < port < 65536:
        raise SettingsError(f"{name} must be between 1 and 65535, got {port}")
    return port


def _metrics_ports(get: Callable[[str], str | None], public: int) -> tuple[int | None, int | None]:
    """The metrics ports of `serve` and `worker` (None: off). Never the public port, and
    not each other's, so both processes can run on one host."""
    ports: dict[str, int] = {}
    for name in ("HELPLINE_METRICS_PORT", "HELPLINE_WORKER_METRICS_PORT"):
        text = get(name)
        if text is None:
            continue
        port = _port(text, name)
        if port == public:
            raise SettingsError(f"{name} must not be the public PORT ({public})")
        if port in ports.values():
            raise SettingsError(f"{name} must differ from HELPLINE_METRICS_PORT ({port})")
        ports[name] = port
    return ports.get("HELPLINE_METRICS_PORT"), ports.get("HELPLINE_WORKER_METRICS_PORT")


def _choice(get: Callable[[str], str | None], name: str, choices: tuple[str, ...]) -> str:
    value = (get(name) or choices[0]).lower()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _whole(get: Callable[[str], str | None], name: str, default: int, low: int, high: int) -> int:
    text = get(name) or str(default)
    if not text.isdigit() or not low <= int(text) <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high}, got {text!r}")
    return int(text)


def _claim(text: str) -> timedelta:
    try:
        span = parse_duration(text)
    except ValueError as error:
        raise SettingsError(f"HELPLINE_WAITLIST_CLAIM: {error}") from None
    if not timedelta(minutes=5) <= span <= timedelta(days=14):
        raise SettingsError(f"HELPLINE_WAITLIST_CLAIM must be from 5m to 14d, got {text!r}")
    return span


def _clock_time(text: str) -> time:
    try:
        return parse_time(text)
    except ValueError as error:
        raise SettingsError(f"HELPLINE_EVENT_REMINDER_AT: {error}") from None
