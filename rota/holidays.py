"""Norwegian public holidays plus the helpline's own extra holidays (e.g. 24 and 31 December)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from holidays.countries.norway import Norway

from rota.model import HelplineConfig, MonthDay

# Names the `holidays` package gives to ordinary Sundays when asked to include them.
_SUNDAY_NAMES = frozenset({"Sunday", "Søndag", "Sundag"})


@lru_cache(maxsize=256)
def _public_holidays(year: int) -> frozenset[date]:
    # Older releases of `holidays` list every Sunday as a Norwegian holiday by default
    # ("søndag"); only real public holidays (1. påskedag, 1. pinsedag, ...) count here.
    table = Norway(years=year, include_sundays=False)
    return frozenset(
        day for day, name in table.items() if day.year == year and name not in _SUNDAY_NAMES
    )


@lru_cache(maxsize=256)
def _public_names(year: int) -> dict[date, str]:
    table = Norway(years=year, include_sundays=False, language="no")
    return {
        day: name for day, name in table.items() if day.year == year and name not in _SUNDAY_NAMES
    }


class HolidayCalendar:
    """Which dates count as holidays for coverage rules: public holidays and extra ones."""

    __slots__ = ("_extra", "_years")

    def __init__(self, extra_holidays: Iterable[MonthDay] = ()) -> None:
        self._extra: frozenset[MonthDay] = frozenset(extra_holidays)
        self._years: dict[int, frozenset[date]] = {}

    @classmethod
    def for_config(cls, config: HelplineConfig) -> HolidayCalendar:
        """The calendar of a helpline: Norway plus its `extra_holidays`."""
        return cls(config.extra_holidays)

    def holidays_in(self, year: int) -> frozenset[date]:
        """Every holiday date of `year` (computed once per year, then cached)."""
        days = self._years.get(year)
        if days is None:
            extra = {date(year, m, d) for m, d in self._extra if _valid(year, m, d)}
            days = _public_holidays(year) | extra
            self._years[year] = days
        return days

    def public_name(self, day: date) -> str | None:
        """The Norwegian name of the public holiday on `day` ("Første juledag"), if any."""
        return _public_names(day.year).get(day)

    def is_extra(self, day: date) -> bool:
        """Is `day` one of the helpline's extra holidays (and no public holiday)?"""
        return (day.month, day.day) in self._extra and self.public_name(day) is None

    def is_holiday(self, day: date) -> bool:
        """Is `day` a Norwegian public holiday or one of the extra holidays?"""
        days = self._years.get(day.year)
        if days is None:
            days = self.holidays_in(day.year)
        return day in days


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:  # 02-29 outside leap years
        return False
    return True
