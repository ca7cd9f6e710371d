"""Fixtures: a fresh installation per test, on SQLite or on PostgreSQL.

Set CASELENS_TEST_DATABASE_URL to a PostgreSQL server URL (for example
postgresql+psycopg://postgres@127.0.0.1/postgres) and every test gets a new database
there; without it, every test gets a new SQLite file.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from caselens.actor import Actor
from caselens.config import Settings
from caselens.services import Caselens

ROOT = Path(__file__).resolve().parents[1]
CORPUS = (ROOT / ".." / "shared" / "corpus").resolve()
PG_URL = os.environ.get("CASELENS_TEST_DATABASE_URL")

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not available")
sqlite_only = pytest.mark.skipif(
    bool(PG_URL), reason="corpus-scale runs on SQLite only; PostgreSQL covers the store"
)

ADMIN = Actor(user="admin", purpose="testing", os_user="admin")
REFERENCE = "CASE-1"


def new_installation(
    home: Path, database_url: str | None, title: str = "test case", **overrides: object
) -> Caselens:
    """An installation with its own settings, an admin, and case "C" led by the admin."""
    app = Caselens(Settings(home=home, database_url=database_url, **overrides))  # type: ignore[arg-type]
    app.users.init(ADMIN)
    app.cases.create(ADMIN, "C", title, default_purpose="testing")
    return app


@pytest.fixture
def database_url() -> Iterator[str | None]:
    if not PG_URL:
        yield None
        return
    name = f"caselens_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        workers=2,
        item_timeout=20,
        kill_grace=1,
        batch_seconds=0.2,
        batch_size=200,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Caselens]:
    instance = Caselens(settings)
    yield instance
    instance.close()


@pytest.fixture
def case(app: Caselens) -> str:
    app.users.init(ADMIN)
    app.cases.create(ADMIN, REFERENCE, "Test case", default_purpose="testing")
    return REFERENCE


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for running the CLI against the test installation."""
    env = {"CASELENS_HOME": str(settings.home), "CASELENS_WORKERS": "2"}
    if settings.database_url:
        env["CASELENS_DATABASE_URL"] = settings.database_url
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("CASELENS_PURPOSE", raising=False)
    return env
