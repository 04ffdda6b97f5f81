from pathlib import Path

import pytest

from helpline.settings import Settings, SettingsError, read_dotenv


def test_defaults_are_the_embedded_sandbox() -> None:
    settings = Settings.from_mapping({"HELPLINE_DATA_DIR": "/srv/helpline"})
    assert settings.data_dir == Path("/srv/helpline")
    assert settings.database_url == "sqlite+aiosqlite:////srv/helpline/helpline.db"
    assert settings.redis_url is None
    assert settings.public_url == "http://127.0.0.1:8080"
    assert settings.twilio_api_base == "https://api.twilio.com"
    assert settings.telegram_api_base == "https://api.telegram.org"
    assert settings.sandbox
    assert settings.port == 8080


def test_values_from_the_mapping_win() -> None:
    settings = Settings.from_mapping(
        {
            "HELPLINE_DATABASE_URL": "postgresql+asyncpg://db/helpline",
            "HELPLINE_REDIS_URL": "redis://cache:6379/0",
            "HELPLINE_PUBLIC_URL": "https://hjelp.example.no/",
            "HELPLINE_ORG_FILE": "org.toml",
            "TWILIO_ACCOUNT_SID": "AC123",
            "TWILIO_AUTH_TOKEN": "secret",
            "PORT": "5000",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://db/helpline"
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.public_url == "https://hjelp.example.no"
    assert settings.org_file == Path("org.toml")
    assert not settings.sandbox
    assert settings.port == 5000


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TELEGRAM_BOT_TOKEN": "123:abc"}, "HELPLINE_TELEGRAM_WEBHOOK_SECRET is required"),
        ({"TWILIO_ACCOUNT_SID": "AC1"}, "set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"),
        ({"PORT": "http"}, "PORT must be a number"),
        ({"PORT": "70000"}, "PORT must be between 1 and 65535"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_mapping(env)


def test_dotenv_lines(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("# comment\nexport PORT=9000\nHELPLINE_PUBLIC_URL='https://x.no'\n\nBROKEN\n")
    assert read_dotenv(env) == {"PORT": "9000", "HELPLINE_PUBLIC_URL": "https://x.no"}
    assert read_dotenv(tmp_path / "missing") == {}


def test_sandbox_and_library_debugging_are_off_unless_asked_for() -> None:
    assert not Settings.from_mapping({}).sandbox_allowed
    assert not Settings.from_mapping({}).debug_libraries
    asked = Settings.from_mapping({"HELPLINE_SANDBOX": "1", "HELPLINE_DEBUG_LIBRARIES": "yes"})
    assert asked.sandbox_allowed and asked.debug_libraries
    assert not Settings.from_mapping({"HELPLINE_SANDBOX": "0"}).sandbox_allowed


@pytest.mark.parametrize("name", ["HELPLINE_SANDBOX", "HELPLINE_DEBUG_LIBRARIES"])
def test_a_flag_that_is_neither_on_nor_off_is_refused(name: str) -> None:
    with pytest.raises(SettingsError, match=f"{name} must be 1 or 0"):
        Settings.from_mapping({name: "maybe"})


def test_logs_are_text_and_metrics_off_unless_asked_for() -> None:
    settings = Settings.from_mapping({})
    assert settings.log_format == "text"
    assert settings.metrics_port is None and settings.worker_metrics_port is None
    assert settings.metrics_host == "127.0.0.1"
    asked = Settings.from_mapping(
        {
            "HELPLINE_LOG_FORMAT": "JSON",
            "HELPLINE_METRICS_PORT": "9108",
            "HELPLINE_WORKER_METRICS_PORT": "9109",
            "HELPLINE_METRICS_HOST": "10.0.0.5",
        }
    )
    assert asked.log_format == "json"
    assert (asked.metrics_port, asked.worker_metrics_port) == (9108, 9109)
    assert asked.metrics_host == "10.0.0.5"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HELPLINE_LOG_FORMAT": "xml"}, "HELPLINE_LOG_FORMAT must be one of text, json"),
        ({"HELPLINE_METRICS_PORT": "8080"}, "must not be the public PORT"),
        ({"PORT": "9000", "HELPLINE_WORKER_METRICS_PORT": "9000"}, "must not be the public"),
        (
            {"HELPLINE_METRICS_PORT": "9108", "HELPLINE_WORKER_METRICS_PORT": "9108"},
            "HELPLINE_WORKER_METRICS_PORT must differ from HELPLINE_METRICS_PORT",
        ),
        ({"HELPLINE_METRICS_PORT": "none"}, "HELPLINE_METRICS_PORT must be a number"),
        ({"HELPLINE_METRICS_PORT": "0"}, "HELPLINE_METRICS_PORT must be between 1 and 65535"),
    ],
)
def test_bad_log_and_metrics_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_mapping(env)
