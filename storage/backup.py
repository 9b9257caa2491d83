"""Backup and restore: one file holding the database and the generated secrets key.

The backup file is a gzip-compressed tar archive, written with owner-only permissions:

* ``manifest.json`` -- format, time, database kind, migration, what the key is and where it was;
* ``database.sqlite`` -- SQLite: a copy made with SQLite's online backup API (consistent while the
  bot runs and writes), or ``database.pgdump`` -- PostgreSQL: ``pg_dump --format=custom`` (one
  consistent snapshot);
* ``secrets.key`` -- the key file ``DATA_DIR/secrets.key`` when the installation uses one (the
  embedded default). A key given as ``SECRETS_KEY`` is never written to a backup: it must be kept
  separately, and without it the encrypted secrets in the backup are useless.

``restore`` refuses a database that holds any row unless forced, puts the key file back, and checks
that the configured key decrypts the restored secrets.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import Database, is_sqlite, normalise_url, sqlite_path
from storage.vault import KEY_FILE, VaultError, load_vault

FORMAT = 1
SQLITE_MEMBER, PG_MEMBER, KEY_MEMBER, MANIFEST = "database.sqlite", "database.pgdump", "secrets.key", "manifest.json"


class BackupError(RuntimeError):
    pass


@dataclass
class Outcome:
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def pg_env(url: str) -> dict[str, str]:
    """libpq's environment for pg_dump/pg_restore (the password never on a command line)."""
    u = make_url(normalise_url(url))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for var, value in (("PGHOST", u.host), ("PGPORT", u.port), ("PGUSER", u.username),
                       ("PGPASSWORD", u.password), ("PGDATABASE", u.database)):
        if value not in (None, ""):
            env[var] = str(value)
    ssl = u.query.get("sslmode") or u.query.get("ssl")
    if isinstance(ssl, str):
        env["PGSSLMODE"] = {"true": "require", "false": "disable"}.get(ssl.lower(), ssl)
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _run(cmd: list[str], env: dict[str, str]) -> None:
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed: {r.stderr.strip()[-800:]}")


_COUNTS = {
    "requests": "SELECT count(*) FROM request",
    "open_requests": "SELECT count(*) FROM request WHERE stage NOT IN ('done', 'cancelled')",
    "pending_reminders": "SELECT count(*) FROM reminder WHERE sent_at IS NULL",
    "encrypted_secrets": "SELECT count(*) FROM secret WHERE ciphertext IS NOT NULL",
}


async def _facts(url: str) -> dict[str, Any]:
    """Migration and a few counts of a database, for the manifest and the summary."""
    db = Database(url)
    try:
        async with db.sessions() as s:
            facts: dict[str, Any] = {"migration": await s.scalar(text("SELECT version_num FROM alembic_version"))}
            for key, q in _COUNTS.items():
                facts[key] = await s.scalar(text(q))
            return facts
    finally:
        await db.dispose()


async def _rows_in(url: str) -> list[str]:
    """Tables (other than Alembic's) that hold at least one row."""
    db = Database(url)
    try:
        async with db.sessions() as s:
            if db.dialect == "sqlite":
                q = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            else:
                q = ("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                     "AND table_type = 'BASE TABLE'")
            tables = [t for t in (await s.scalars(text(q))).all() if t != "alembic_version"]
            full = []
            for t in tables:
                if await s.scalar(text(f'SELECT 1 FROM "{t}" LIMIT 1')) is not None:
                    full.append(t)
            return full
    finally:
        await db.dispose()


async def _table_count(url: str) -> int:
    db = Database(url)
    try:
        async with db.sessions() as s:
            if db.dialect == "sqlite":
                return await s.scalar(text("SELECT count(*) FROM sqlite_master WHERE type = 'table'")) or 0
            return await s.scalar(text("SELECT count(*) FROM information_schema.tables WHERE "
                                       "table_schema = current_schema()")) or 0
    finally:
        await db.dispose()


def backup(database_url: str, data_dir: Path, secrets_key: str, target: Path) -> Outcome:
    out = Outcome()
    url = normalise_url(database_url)
    key_file = data_dir / KEY_FILE
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="splp-backup-", dir=target.parent) as tmp:
        if is_sqlite(url):
            src_path = sqlite_path(url)
            if src_path is None or not src_path.exists():
                raise BackupError(f"no SQLite database at {src_path}")
            member, dump = SQLITE_MEMBER, Path(tmp) / SQLITE_MEMBER
            src = sqlite3.connect(src_path, timeout=10)
            dst = sqlite3.connect(dump)
            try:
                src.backup(dst)  # the online backup API: one consistent snapshot, writers keep going
            finally:
                dst.close()
                src.close()
            facts = asyncio.run(_facts(f"sqlite+aiosqlite:///{dump}"))
        else:
            member, dump = PG_MEMBER, Path(tmp) / PG_MEMBER
            facts = asyncio.run(_facts(url))
            _run([_tool("pg_dump"), "--format=custom", "--no-password", f"--file={dump}"], pg_env(url))
        if secrets_key.strip():
            key_kind = "environment"
            if facts["encrypted_secrets"]:
                out.warnings.append(
                    f"SECRETS_KEY comes from the environment and is NOT in this backup. The "
                    f"{facts['encrypted_secrets']} encrypted secret(s) in it can only be read with that key: keep "
                    "a copy of SECRETS_KEY apart from the backups (a password safe), never only on this server.")
            else:
                out.warnings.append("SECRETS_KEY comes from the environment and is NOT in this backup: keep a copy "
                                    "of it apart from the backups; secrets stored later need it.")
        elif key_file.exists():
            key_kind = "file"
        else:
            key_kind = "none"
        manifest = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "database": "sqlite" if member == SQLITE_MEMBER else "postgresql", "key": key_kind, **facts}
        part = target.with_name(target.name + ".part")
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(data), 0o600, int(datetime.now(UTC).timestamp())
            tar.addfile(info, io.BytesIO(data))
            os.chmod(dump, 0o600)
            tar.add(dump, arcname=member)
            if key_kind == "file":
                tar.add(key_file, arcname=KEY_MEMBER)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(part, target)
    size = target.stat().st_size
    out.lines.append(f"backup written to {target} ({size / 1024:.0f} KiB, owner-only permissions): "
                     f"{manifest['database']} at migration {facts['migration']}, {facts['requests']} request(s) "
                     f"({facts['open_requests']} open), {facts['pending_reminders']} pending reminder(s), "
                     f"{facts['encrypted_secrets']} encrypted secret(s)")
    if key_kind == "file":
        out.lines.append(f"the secrets key file {key_file} is included: guard this backup like the key itself")
        out.warnings.append("the backup holds the key and the data it protects: store it encrypted or offline, "
                            "and never next to the only copy of the server")
    return out


def _read(archive: Path) -> tuple[dict[str, Any], tarfile.TarFile]:
    if not archive.exists():
        raise BackupError(f"{archive} does not exist")
    try:
        tar = tarfile.open(archive, mode="r:gz")
        manifest = json.loads(tar.extractfile(MANIFEST).read())  # type: ignore[union-attr]
    except (tarfile.TarError, KeyError, AttributeError, ValueError) as e:
        raise BackupError(f"{archive} is not a splp-bot backup ({type(e).__name__})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} has backup format {manifest.get('format')}, this version reads {FORMAT}")
    return manifest, tar


def restore(database_url: str, data_dir: Path, secrets_key: str, archive: Path, *, force: bool = False) -> Outcome:
    out = Outcome()
    url = normalise_url(database_url)
    manifest, tar = _read(archive)
    with tar:
        names = set(tar.getnames())
        kind = "sqlite" if is_sqlite(url) else "postgresql"
        if manifest["database"] != kind:
            raise BackupError(f"the backup holds a {manifest['database']} database but DATABASE_URL is {kind}; "
                              "restore into the same kind of database")
        target_path = sqlite_path(url) if kind == "sqlite" else None
        exists = kind == "postgresql" or (target_path is not None and target_path.exists())
        full = asyncio.run(_rows_in(url)) if exists else []
        if full and not force:
            raise BackupError(f"the database in DATABASE_URL is not empty ({', '.join(full[:6])}"
                              f"{' ...' if len(full) > 6 else ''} hold rows). Restoring would replace it: stop "
                              "every instance, and run restore again with --force if that is what you want.")
        key_file = data_dir / KEY_FILE
        key_data = tar.extractfile(KEY_MEMBER).read().strip() if KEY_MEMBER in names else None  # type: ignore[union-attr]
        if key_data is not None and key_file.exists() and key_file.read_bytes().strip() != key_data and not force:
            raise BackupError(f"{key_file} exists and differs from the key in the backup; replacing it would make "
                              "the secrets it encrypts unreadable. Move it away, or use --force.")
        with tempfile.TemporaryDirectory(prefix="splp-restore-") as tmp:
            member = SQLITE_MEMBER if kind == "sqlite" else PG_MEMBER
            tar.extract(member, tmp, filter="data")
            dump = Path(tmp) / member
            if kind == "sqlite":
                assert target_path is not None
                target_path.parent.mkdir(parents=True, exist_ok=True)
                src, dst = sqlite3.connect(dump), sqlite3.connect(target_path, timeout=10)
                try:
                    src.backup(dst)  # replaces the whole target database, WAL included
                finally:
                    dst.close()
                    src.close()
            else:
                cmd = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--no-password",
                       "--single-transaction"]
                if asyncio.run(_table_count(url)):
                    cmd += ["--clean", "--if-exists"]  # the schema exists (empty, or --force): replace it
                env = pg_env(url)
                _run([*cmd, f"--dbname={env.get('PGDATABASE', '')}", str(dump)], env)
        if key_data is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            part = key_file.with_name(KEY_FILE + ".part")
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(key_data)
            os.replace(part, key_file)
            out.lines.append(f"secrets key file restored to {key_file}")
    facts = asyncio.run(_facts(url))
    out.lines.append(f"restored {archive} (made {manifest['created_at']}): migration {facts['migration']}, "
                     f"{facts['requests']} request(s) ({facts['open_requests']} open), "
                     f"{facts['pending_reminders']} pending reminder(s), {facts['encrypted_secrets']} encrypted "
                     "secret(s)")
    out.warnings += _check_key(url, data_dir, secrets_key, manifest, facts)
    out.lines.append("start the bot: it applies newer migrations itself (with several instances run "
                     "`python main.py db upgrade` first); messages that were waiting at the time of the backup "
                     "are sent again")
    return out


def _check_key(url: str, data_dir: Path, secrets_key: str, manifest: dict[str, Any], facts: dict[str, Any]
               ) -> list[str]:
    if not facts["encrypted_secrets"]:
        return []
    try:
        vault = load_vault(secrets_key, data_dir, may_generate=False)
    except VaultError as e:
        return [f"{e}: the {facts['encrypted_secrets']} restored secret(s) cannot be read"]
    if vault is None:
        where = "SECRETS_KEY (it was given by the environment)" if manifest["key"] == "environment" else "the key"
        return [f"no key is configured: set {where} before starting, or the {facts['encrypted_secrets']} restored "
                "secret(s) are useless and the bot refuses to start"]

    async def sample() -> bytes | None:
        db = Database(url)
        try:
            async with db.sessions() as s:
                return await s.scalar(text("SELECT ciphertext FROM secret WHERE ciphertext IS NOT NULL LIMIT 1"))
        finally:
            await db.dispose()

    token = asyncio.run(sample())
    try:
        if token is not None:
            vault.decrypt(bytes(token))
    except VaultError:
        return ["the configured key cannot decrypt the restored secrets: set SECRETS_KEY to the key in use when "
                "the backup was made"]
    return []
