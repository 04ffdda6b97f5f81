"""The flood control, retention and pacing settings: defaults, and refusals with a reason."""

import pytest

from helpline.settings import Settings, SettingsError


def limits(settings: Settings) -> tuple[int, int, int]:
    return settings.followup_batch, settings.unknown_per_hour, settings.retention_days


def test_the_defaults() -> None:
    assert limits(Settings.from_mapping({})) == (60, 10, 90)


def test_values_from_the_mapping() -> None:
    settings = Settings.from_mapping(
        {
            "HELPLINE_FOLLOWUP_BATCH": "300",
            "HELPLINE_UNKNOWN_PER_HOUR": "25",
            "HELPLINE_RETENTION_DAYS": "30",
        }
    )
    assert limits(settings) == (300, 25, 30)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HELPLINE_FOLLOWUP_BATCH", "4"),
        ("HELPLINE_FOLLOWUP_BATCH", "3601"),
        ("HELPLINE_FOLLOWUP_BATCH", "1m"),
        ("HELPLINE_UNKNOWN_PER_HOUR", "0"),
        ("HELPLINE_UNKNOWN_PER_HOUR", "-3"),
        ("HELPLINE_RETENTION_DAYS", "0"),
        ("HELPLINE_RETENTION_DAYS", "90.5"),
        ("HELPLINE_RETENTION_DAYS", "3651"),
        ("HELPLINE_SMS_RATE", "0"),
        ("HELPLINE_SMS_RATE", "2.5"),
        ("HELPLINE_SMS_RATE", "1001"),
    ],
)
def test_bad_values_are_refused_with_the_range(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"{name} must be a whole number from .* to .*{value}"):
        Settings.from_mapping({name: value})


def test_the_sms_rate() -> None:
    assert Settings.from_mapping({}).sms_rate == 10
    assert Settings.from_mapping({"HELPLINE_SMS_RATE": "50"}).sms_rate == 50
