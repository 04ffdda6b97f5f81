"""The cores stay pure (STYLE.md habit 1): no I/O libraries, no clock."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORES = ("rota", "routing")
BANNED = {
    "aiohttp",
    "redis",
    "sqlalchemy",
    "twilio",
    "telegram",
    "saq",
    "arq",
    "alembic",
    "asyncpg",
    "aiosqlite",
    "helpline",
    "bots",
    "socket",
    "subprocess",
    "requests",
}
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


def core_modules() -> list[Path]:
    return sorted(p for core in CORES for p in (ROOT / core).rglob("*.py"))


def imported_roots(tree: ast.AST) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def clock_reads(tree: ast.AST) -> list[str]:
    return [
        ast.unparse(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_CALLS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in {"datetime", "date", "time"}
    ]


def test_there_are_core_modules_to_check() -> None:
    assert len(core_modules()) >= 5


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_module_is_pure(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert imported_roots(tree) & BANNED == set()
    assert clock_reads(tree) == []


def test_the_checks_catch_what_they_look_for() -> None:
    tree = ast.parse("import redis\nfrom sqlalchemy import text\nx = datetime.now(UTC)\n")
    assert imported_roots(tree) & BANNED == {"redis", "sqlalchemy"}
    assert clock_reads(tree) == ["datetime.now"]
