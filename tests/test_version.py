"""`dexdesk --version` and `info` name the release and the schema revision: the one this release writes
and the one the database is at. A version check only looks: it never creates or upgrades a database."""

from __future__ import annotations

import re
import sqlite3
import tomllib
from pathlib import Path

import pytest

from app import __version__
from app.cli import main, version_lines
from engine.storage import OrderStore
from engine.storage.migrate import head_revision
from engine.storage.revision import SchemaState
from tests.conftest import postgres_schema, running
from tests.ownership.test_upgrade_0_1_0 import old_database  # noqa: F401  # the 0.1.0 databases, both kinds

ROOT = Path(__file__).resolve().parents[1]
HEAD_LINE = f"schema revision: {head_revision()} (the newest this release writes)"


def test_the_release_is_one_number_in_pyproject_the_code_and_the_changelog() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    headings = re.findall(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert pyproject["project"]["version"] == __version__
    assert headings[0] == "Unreleased"
    assert headings[1] == __version__
    assert headings[-1] == "0.1.0"


def test_version_on_a_database_not_yet_made_says_so_and_does_not_make_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    assert main(["--version", "--db", url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"dexdesk {__version__}",
        HEAD_LINE,
        f"database: {url} (does not exist yet: submit, run or the desk create it)",
    ]
    assert not (tmp_path / "new.db").exists()


async def test_version_on_a_database_of_this_release_names_its_revision(db_url: str) -> None:
    async with running(db_url):
        pass
    assert await version_lines(db_url) == [HEAD_LINE, f"database: {db_url} (at revision {head_revision()})"]


async def test_version_on_a_postgres_schema_without_tables_says_it_holds_none() -> None:
    async with postgres_schema() as url:
        assert await version_lines(url) == [HEAD_LINE, f"database: {url} (holds no dexdesk tables yet)"]


async def test_version_on_a_0_1_0_database_names_it_and_leaves_the_upgrade_to_the_next_open(
    old_database: str,  # noqa: F811  # the fixture imported above
) -> None:
    assert await version_lines(old_database) == [
        HEAD_LINE,
        f"database: {old_database} (written by 0.1.0, before revisions; upgraded to {head_revision()} when dexdesk "
        "next opens it)",
    ]
    store = OrderStore(old_database)
    await store.open()
    await store.close()
    assert store.upgraded_from == "0.1.0", "the version check upgraded the database itself"
    assert (await version_lines(old_database))[1] == f"database: {old_database} (at revision {head_revision()})"


async def test_version_with_an_unreachable_database_still_answers() -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/test"
    lines = await version_lines(url)
    assert lines[0] == HEAD_LINE
    assert lines[1].startswith(f"database: {url} (revision unknown: ")


def test_an_older_or_a_newer_revision_says_what_happens_next() -> None:
    assert SchemaState("0006", "0004").describe() == "at revision 0004; upgraded to 0006 when dexdesk next opens it"
    assert SchemaState("0006", "0999").describe() == (
        "at revision 0999, which this release does not know (written by a newer dexdesk)"
    )


def test_info_names_the_release_and_both_revisions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        connection.executescript((ROOT / "tests" / "data" / "dexdesk_0_1_0.sqlite.sql").read_text(encoding="utf-8"))
    url = f"sqlite+aiosqlite:///{path}"
    assert main(["info", "--db", url]) == 0
    first = capsys.readouterr().out.splitlines()
    assert main(["info", "--db", url]) == 0
    again = capsys.readouterr().out.splitlines()
    assert first[0] == f"dexdesk {__version__}"
    assert f"{HEAD_LINE}; database at {head_revision()} (upgraded from 0.1.0 just now)" in first
    assert f"{HEAD_LINE}; database at {head_revision()}" in again


def test_version_and_info_never_print_the_database_password(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+asyncpg://postgres:secret@127.0.0.1:1/test"  # nothing listens on port 1
    assert main(["--version", "--db", url]) == 0
    main(["info", "--db", url])
    shown = capsys.readouterr()
    assert "secret" not in shown.out + shown.err
    assert "database: postgresql+asyncpg://postgres:***@127.0.0.1:1/test (revision unknown: " in shown.out
