"""The Alembic migrations build exactly the schema the models declare (no drift)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import upgrade
from storage.models import Base


def test_migrations_match_the_models(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_head_revision_without_alembic_matches_alembic() -> None:
    """The bot checks "at head" by reading the migration files (not loading Alembic)."""
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config("sqlite:///x.db")).get_current_head()


async def test_prepare_migrates_a_new_database_in_a_child_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.settings import Settings
    from main import _prepare
    from storage.db import current_revision, head_revision

    url = f"sqlite+aiosqlite:///{tmp_path}/new.db"
    db = await _prepare(Settings(_env_file=None, database_url=url))
    try:
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()
