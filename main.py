"""splp-bot: command line.

    python main.py                       run the bot (long polling; migrations applied on start);
                                         without BOT_TOKEN: the sandbox instead (below)
    python main.py run [--webhook]       the same, or webhook mode for several instances
    python main.py sandbox [--port 8080] [--data-dir data/sandbox] [--reset] [--sop FILE]
                                         the whole SOP on this machine, no Telegram: every role's
                                         chat side by side in a web page on 127.0.0.1
    python main.py sop check FILE        validate an SOP file (and whether the bot can switch to it)
    python main.py sop show [FILE]       the steps as the bot will run them (default: SOP_FILE)
    python main.py db upgrade            apply database migrations
    python main.py doctor [--webhook|--polling]
                                         check the installation; exit status 1 when something blocks it
    python main.py backup FILE           database (+ generated secrets key) into one file, while running
    python main.py restore FILE [--force]
                                         into an empty database (--force: replace a non-empty one)
    python main.py officials add --role ROLE --telegram-id N --name "..."   (ROLE: the SOP's role codes, admin)
    python main.py officials list
    python main.py officials deactivate --telegram-id N
    python main.py agencies import FILE.csv [--deactivate-missing]
    python main.py calendar off DATE [--to DATE] [--note "..."]
    python main.py calendar hours DATE [--to DATE] --spec "08:00-12:00,12:30-15:00 | 08:00-11:30,12:30-15:30"
    python main.py calendar remove DATE [--to DATE]
    python main.py calendar list
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.settings import MissingSetting, Settings
from workflow.sopdoc import SopInvalid


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="main.py", description="SPLP bot: an office's SOP for SPLP accounts and API "
                                                            "access (the SOP file: SOP_FILE)")
    sub = p.add_subparsers(dest="cmd")
    run = sub.add_parser("run", help="run the bot")
    run.add_argument("--webhook", action="store_true", help="webhook mode (WEBHOOK_URL, WEBHOOK_PORT, ...)")
    sb = sub.add_parser("sandbox", help="the whole SOP on this machine without Telegram, in a web page")
    sb.add_argument("--port", type=int, default=None, help="the page's port on 127.0.0.1 (default 8080, SANDBOX_PORT)")
    sb.add_argument("--data-dir", type=Path, default=None,
                    help="where the sandbox keeps its database, chats and clock (default data/sandbox, SANDBOX_DATA_DIR)")
    sb.add_argument("--reset", action="store_true", help="start over: wipe the sandbox's data first")
    sb.add_argument("--sop", type=Path, default=None,
                    help="the SOP file the sandbox runs (default SOP_FILE: sop/kota-bogor-038.yaml)")
    so = sub.add_parser("sop", help="the SOP file: check one, show the steps as the bot runs them")
    sosub = so.add_subparsers(dest="action", required=True)
    chk = sosub.add_parser("check", help="validate FILE; with a database, whether the bot could switch to it")
    chk.add_argument("file", type=Path)
    shw = sosub.add_parser("show", help="the steps of FILE (default SOP_FILE) as the bot will run them")
    shw.add_argument("file", type=Path, nargs="?")
    db = sub.add_parser("db", help="database")
    db.add_argument("action", choices=["upgrade"])
    doc = sub.add_parser("doctor", help="check the installation and explain what is wrong")
    mode = doc.add_mutually_exclusive_group()
    mode.add_argument("--webhook", action="store_true", default=None,
                      help="expect webhook mode (default: when WEBHOOK_URL is set)")
    mode.add_argument("--polling", dest="webhook", action="store_false", help="expect polling mode")
    bk = sub.add_parser("backup", help="back up the database and the generated secrets key into FILE")
    bk.add_argument("file", type=Path)
    rs = sub.add_parser("restore", help="restore FILE (made by backup) into the configured database")
    rs.add_argument("file", type=Path)
    rs.add_argument("--force", action="store_true", help="replace a database that is not empty")
    off = sub.add_parser("officials", help="manage officials")
    osub = off.add_subparsers(dest="action", required=True)
    add = osub.add_parser("add")
    add.add_argument("--role", required=True, help="a role code of the SOP in force (sop show lists them), or admin")
    add.add_argument("--telegram-id", required=True, type=int)
    add.add_argument("--name", required=True)
    osub.add_parser("list")
    de = osub.add_parser("deactivate")
    de.add_argument("--telegram-id", required=True, type=int)
    ag = sub.add_parser("agencies", help="manage the list of Perangkat Daerah")
    asub = ag.add_subparsers(dest="action", required=True)
    imp = asub.add_parser("import")
    imp.add_argument("file", type=Path)
    imp.add_argument("--deactivate-missing", action="store_true")
    asub.add_parser("list")
    cal = sub.add_parser("calendar", help="extra days off and special working hours")
    csub = cal.add_subparsers(dest="action", required=True)
    c_off = csub.add_parser("off", help="extra day(s) off")
    c_off.add_argument("date")
    c_off.add_argument("--to", help="last day of a range")
    c_off.add_argument("--note", default="Libur")
    c_hours = csub.add_parser("hours", help="special hours, e.g. Ramadan")
    c_hours.add_argument("date")
    c_hours.add_argument("--to", help="last day of a range")
    c_hours.add_argument("--spec", required=True,
                         help='"08:00-12:00,12:30-15:00" or "Mon-Thu hours | Friday hours"')
    c_hours.add_argument("--note", default="")
    c_rm = csub.add_parser("remove")
    c_rm.add_argument("date")
    c_rm.add_argument("--to")
    csub.add_parser("list")
    return p


async def _prepare(settings: Settings):  # type: ignore[no-untyped-def]
    """The database, migrated and seeded. Migrations run in a child process (`db upgrade`), and only
    when the database is behind: the bot never carries Alembic in its memory."""
    from storage.db import Database, current_revision, head_revision
    from storage.repo import seed_agencies_if_empty

    db = Database(settings.database_url)
    if await current_revision(db) != head_revision():
        await db.dispose()
        import os

        proc = await asyncio.create_subprocess_exec(sys.executable, str(Path(__file__).resolve()), "db", "upgrade",
                                                    stdout=asyncio.subprocess.DEVNULL,
                                                    env={**os.environ, "DATABASE_URL": settings.database_url})
        if await proc.wait() != 0:
            raise MissingSetting(f"the database migration failed (python main.py db upgrade exited {proc.returncode})")
        db = Database(settings.database_url)
    async with db.transaction() as s:
        await seed_agencies_if_empty(s)
    return db


def _sandbox(settings: Settings, port: int | None = None, data_dir: Path | None = None, reset: bool = False,
             sop: Path | None = None) -> int:
    from sandbox.run import serve

    return asyncio.run(serve(data_dir or settings.sandbox_data_dir,
                             settings.sandbox_port if port is None else port, reset=reset,
                             sop_file=sop or settings.sop_file))


async def _run(settings: Settings, webhook: bool) -> None:
    from bot.sopcheck import SopCheck

    settings.require_token()
    check = SopCheck(settings.sop_file)  # checked by a child process while the bot imports its libraries
    from bot.app import BotRuntime
    from handlers import register_all

    sop = check.result()  # an invalid SOP file stops here, before the database (SopInvalid: exit 2)
    db = await _prepare(settings)
    try:
        await BotRuntime(settings, db, register=register_all, sop=sop).run_forever(
            mode="webhook" if webhook else "polling")
    finally:
        await db.dispose()


async def _officials(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import Clock
    from bot.services.officials import Officials
    from bot.updates import work_scope
    from storage.models import Official
    from storage.repo import list_officials
    from sqlalchemy import select

    db = await _prepare(settings)
    try:
        if args.action == "list":
            async with db.sessions() as s:
                for off, roles in await list_officials(s):
                    state = "active" if off.active else "inactive"
                    print(f"{off.id}\t{off.telegram_id}\t{off.name}\t{','.join(roles) or '-'}\t{state}")
            return 0
        now = Clock().now()
        env = _cli_env(settings)
        if args.action == "add" and args.role not in env.sop.official_roles():
            print(f"unknown role {args.role!r}: the SOP in force ({env.sop.label}) has "
                  f"{', '.join(env.sop.official_roles())}", file=sys.stderr)
            return 1
        async with db.transaction() as s:
            scope = work_scope(s, now)
            svc = Officials(scope, env)
            if args.action == "add":
                off = await svc.add(args.telegram_id, args.name.strip(), args.role)
                print(f"official {off.id} ({args.telegram_id}) now has role {args.role}")
            else:
                found = await s.scalar(select(Official).where(Official.telegram_id == args.telegram_id))
                if found is None or await svc.deactivate(found.id) is None:
                    print("no active official with that Telegram id", file=sys.stderr)
                    return 1
                print(f"official {found.id} deactivated")
            await scope.outbox.flush()
        return 0
    finally:
        await db.dispose()


def _cli_env(settings: Settings):  # type: ignore[no-untyped-def]
    from bot.app import build_calendar, load_sop
    from bot.callbacks import CallbackCodec
    from bot.clock import Clock
    from bot.env import Env

    clock = Clock()
    sop = load_sop(settings)
    return Env(settings, CallbackCodec(settings.bot_token or "cli"), clock,
               build_calendar(settings, sop, clock.now().date()), sop)


async def _agencies(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select
    from storage.models import Agency
    from storage.repo import CsvError, read_agencies_csv, upsert_agencies

    db = await _prepare(settings)
    try:
        if args.action == "list":
            async with db.sessions() as s:
                for a in (await s.scalars(select(Agency).order_by(Agency.id))).all():
                    print(f"{a.code}\t{a.short_name}\t{a.name}\t{'active' if a.active else 'inactive'}")
            return 0
        try:
            rows = read_agencies_csv(args.file)
        except (OSError, CsvError) as e:
            print(f"cannot import {args.file}: {e}", file=sys.stderr)
            return 1
        async with db.transaction() as s:
            added, updated = await upsert_agencies(s, rows, deactivate_missing=args.deactivate_missing)
        print(f"agencies: {added} added, {updated} updated")
        return 0
    finally:
        await db.dispose()


async def _calendar(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import Clock
    from bot.services.calendar_admin import CalendarAdmin
    from bot.updates import work_scope
    from workflow.calendar_input import parse_date
    from workflow.form import Invalid

    db = await _prepare(settings)
    try:
        now = Clock().now()
        async with db.transaction() as s:
            svc = CalendarAdmin(work_scope(s, now), _cli_env(settings))  # type: ignore[arg-type]
            if args.action == "list":
                for r in await svc.upcoming(now.astimezone(settings.tz).date(), limit=1000):
                    print(f"{r.day.isoformat()}\t{r.kind}\t{r.hours or '-'}\t{r.note or ''}")
                return 0
            try:
                start = parse_date(args.date)
                end = parse_date(args.to) if args.to else start
                if end < start:
                    raise Invalid("range_backwards")
                if args.action == "off":
                    n = await svc.add_days_off(start, end, args.note, by=None)
                elif args.action == "hours":
                    n = await svc.add_special_hours(start, end, args.spec, args.note, by=None)
                else:
                    n = await svc.remove(start, end, by=None)
            except Invalid as e:
                print(f"invalid input: {e.code}", file=sys.stderr)
                return 1
            print(f"calendar: {n} day(s) {'removed' if args.action == 'remove' else 'saved'}")
        return 0
    finally:
        await db.dispose()


def _backup_restore(settings: Settings, args: argparse.Namespace) -> int:
    from storage.backup import BackupError, backup, restore

    try:
        if args.cmd == "backup":
            out = backup(settings.database_url, settings.data_dir, settings.secrets_key, args.file)
        else:
            out = restore(settings.database_url, settings.data_dir, settings.secrets_key, args.file,
                          force=args.force)
    except BackupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for line in out.lines:
        print(line)
    for w in out.warnings:
        print(f"WARNING: {w}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except MissingSetting as e:  # a value not of its setting's type or range
        print(f"error: {e}", file=sys.stderr)
        return 2
    from bot.logging_setup import setup_logging
    setup_logging(settings.log_level, [settings.bot_token, settings.webhook_secret, settings.secrets_key,
                                       settings.splp_admin_password], settings.log_format)
    try:
        if args.cmd in (None, "run"):
            webhook = getattr(args, "webhook", False)
            if not settings.bot_token.strip() and not webhook:
                print("BOT_TOKEN is not set, so the sandbox starts instead: the whole SOP on this machine, "
                      "without Telegram (python main.py sandbox). Set BOT_TOKEN (environment or .env) to run "
                      "the real bot.", file=sys.stderr, flush=True)
                return _sandbox(settings)
            asyncio.run(_run(settings, webhook))
            return 0
        if args.cmd == "sandbox":
            return _sandbox(settings, args.port, args.data_dir, args.reset, args.sop)
        if args.cmd == "sop":
            from bot import sopview
            from workflow.sopdoc import load

            if args.action == "check":
                return asyncio.run(sopview.check(settings, args.file))
            print(sopview.show(load(args.file or settings.sop_file)))
            return 0
        if args.cmd == "db":
            from storage.db import upgrade
            upgrade(settings.database_url)
            print("database is up to date")
            return 0
        if args.cmd == "doctor":
            from bot.doctor import run_doctor
            return run_doctor(settings, args.webhook)
        if args.cmd in ("backup", "restore"):
            return _backup_restore(settings, args)
        if args.cmd == "officials":
            return asyncio.run(_officials(settings, args))
        if args.cmd == "agencies":
            return asyncio.run(_agencies(settings, args))
        if args.cmd == "calendar":
            return asyncio.run(_calendar(settings, args))
    except MissingSetting as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except SopInvalid as e:
        print(f"error: the SOP file is invalid ({len(e.problems)} problem(s)); the bot does not start:\n{e}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # the output went to a reader that stopped early (`... | head`): not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's own flush at exit
        sys.exit(0)
