"""The fault run needs PostgreSQL and Redis: its tests skip, saying so, without them."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def stores() -> tuple[str, str]:
    """The PostgreSQL and Redis URLs of the fault run (both are WIPED)."""
    database_url = os.environ.get("HELPLINE_TEST_DATABASE_URL", "")
    redis_url = os.environ.get("HELPLINE_TEST_REDIS_URL", "")
    if not database_url.startswith("postgresql") or not redis_url.startswith("redis://"):
        pytest.skip(
            "the fault run needs PostgreSQL and Redis on TCP: set HELPLINE_TEST_DATABASE_URL"
            " (postgresql+asyncpg://...) and HELPLINE_TEST_REDIS_URL (redis://...)"
        )
    return database_url, redis_url
