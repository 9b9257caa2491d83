"""/rekap end to end: the Head picks a period and gets the chart, the summary, the PDF (with the
action typed for a step), the XLSX and the audit CSV; the admin sees no officials' figures;
requesters, executors and strangers are refused, also with forged buttons; the monthly report goes
once, on the first working day, with two instances."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime

import pytest

from bot.clock import FakeClock
from tests.e2e import oversight_data as D
from tests.e2e.harness import ADMIN, DIVISION, EXEC1, HEAD, REQUESTER, STRANGER, TEAM, Harness
from tests.sopfiles import SOP_FILES

JAN_12 = datetime(2027, 1, 12, 9, 0, tzinfo=D.W)  # a Tuesday past January's first working days


async def _harness(emu, db_url, at: datetime, **kw) -> Harness:  # type: ignore[no-untyped-def]
    h = Harness(emu, db_url, clock=FakeClock(at), **kw)
    await h.start()
    await h.cast()
    assert [await h.official_id(u) for u in (HEAD, DIVISION, TEAM, EXEC1)] == [D.HEAD, D.DIV, D.TEAM, D.EXE]
    async with h.db.transaction() as s:
        await D.seed(s, officials=False)
    return h


def _docs(h: Harness, uid: int, suffix: str) -> list:  # type: ignore[type-arg]
    return [m for m in h.emu.bot_messages(uid) if m.file_name and m.file_name.endswith(suffix)]


async def test_head_gets_chart_summary_pdf_xlsx_and_audit_csv(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook
    from pypdf import PdfReader

    h = await _harness(emu, db_url, JAN_12)
    try:
        await h.settle()  # the per-role command menus
        assert "rekap" in [c["command"] for c in emu.my_commands({"type": "chat", "chat_id": HEAD})]
        assert "rekap" not in [c["command"] for c in emu.my_commands({"type": "chat", "chat_id": EXEC1})]
        menu = await h.say(HEAD, "/rekap", expect="Pilih periode")
        ans = await h.tap(HEAD, menu, text="Bulan lalu")
        assert ans["text"].startswith("⏳")
        # The summary first, then the chart, with the buttons under it.
        text_msg = await h.wait_msg(HEAD, "Rekapitulasi Pelaksanaan SOP", after=menu.message_id, timeout=15)
        summary = await h.wait_msg(HEAD, "Rekapitulasi SOP — Desember 2026", after=text_msg.message_id, timeout=15)
        assert summary.photo and summary.content.startswith(b"\x89PNG")
        assert "Diterima 3 · Selesai 1 · Berjalan 2 · Dibatalkan 1" in text_msg.text
        assert "Per pejabat" in text_msg.text and "Rahmat Hidayat (Kepala Diskominfo): 6" in text_msg.text
        assert "✍️ Tindakan A4" in summary.button_texts and "✍️ Tindakan A2" not in summary.button_texts
        # The Head types the action for A4, then has the PDF made: the action is in the monitoring form.
        await h.tap(HEAD, summary, text="✍️ Tindakan A4", expect="Ketik tindakannya")
        saved = await h.say(HEAD, "Pemeriksaan kelengkapan diselesaikan pada hari surat diterima.",
                            expect="Tindakan langkah A4 disimpan")
        await h.tap(HEAD, saved, text="📄 Buat PDF", expect="Laporan Monitoring dan Evaluasi", timeout=15)
        pdf = _docs(h, HEAD, ".pdf")[-1]
        assert pdf.file_name == "monev-sop-20261201-20261231.pdf"
        text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Pemeriksaan kelengkapan diselesaikan pada hari surat diterima." in text
        assert "4 kali dilaksanakan, 3 dalam batas waktu (75%)" in text and "Rahmat Hidayat" in text
        await h.tap(HEAD, summary, text="📊 XLSX", expect="Data monitoring SOP", timeout=15)
        book = load_workbook(io.BytesIO(_docs(h, HEAD, ".xlsx")[-1].content))
        a4 = next(r for r in book["Ringkasan"].iter_rows(values_only=True) if r and r[0] == "A4")
        assert a4[3] == 4 and a4[7] == pytest.approx(0.75)
        assert book["Rincian"].max_row == 1 + 32
        await h.tap(HEAD, summary, text="🧾 Log audit", expect="Log audit", timeout=15)
        csv = _docs(h, HEAD, ".csv")[-1].content.decode("utf-8-sig")
        assert csv.startswith("Waktu (WIB),Pelaku,Tindakan") and "SPLP-2026-000003" in csv
        # A period typed by hand.
        menu = await h.say(HEAD, "/rekap", expect="Pilih periode")
        await h.tap(HEAD, menu, text="✍️ Ketik rentang tanggal", expect="Ketik rentang tanggal")
        await h.say(HEAD, "31-12-2026 s.d. 01-12-2026", expect="Tanggal akhir tidak boleh sebelum")
        typed = await h.say(HEAD, "14-12-2026 s.d. 20-12-2026", expect="Rekapitulasi Pelaksanaan SOP", timeout=15)
        assert "14 Desember 2026 s.d. 20 Desember 2026" in typed.text
        await h.wait_msg(HEAD, "Rekapitulasi SOP — 14 Desember 2026", after=typed.message_id, timeout=15)
        # The admin may look, without the officials' figures and without typing actions.
        menu = await h.say(ADMIN, "/rekap", expect="Pilih periode")
        await h.tap(ADMIN, menu, text="Bulan lalu")
        adm = await h.wait_msg(ADMIN, "Rekapitulasi Pelaksanaan SOP", after=menu.message_id, timeout=15)
        chart = await h.wait_msg(ADMIN, "Rekapitulasi SOP —", after=adm.message_id, timeout=15)
        assert "Per pejabat" not in adm.text and "📄 PDF" in chart.button_texts
        assert not [b for b in chart.button_texts if "Tindakan" in b]
        # Delivered reports' files are not kept in the database.
        from sqlalchemy import func, select

        from storage.models import StoredFile
        async with h.db.sessions() as s:
            kinds = sorted((await s.scalars(select(StoredFile.kind))).all())
        assert kinds == ["csv", "pdf", "png", "png", "png", "xlsx"], kinds  # three summaries (photos), the files
        h.clock.set(datetime(2027, 1, 15, 9, 0, tzinfo=D.W))
        await h.runtime.sweep_reminders()  # type: ignore[union-attr]
        async with h.db.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(StoredFile)) == 0
    finally:
        await h.close()


async def test_others_are_refused(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    h = await _harness(emu, db_url, JAN_12)
    try:
        for uid in (REQUESTER, EXEC1, STRANGER):
            h.emu.add_user(uid, "Pengguna", started=True)
            await h.say(uid, "/rekap", expect="Rekapitulasi hanya untuk")
        # Buttons made for the Head, tapped by an executor: refused, nothing produced.
        codec = h.runtime.env.codec  # type: ignore[union-attr]
        m = h.emu.last_bot_message(EXEC1)
        for data in (codec.encode("op", "m1"), codec.encode("of", "pdf", "20261201", "20261231"),
                     codec.encode("oa", "20261201", "20261231", "A4"), codec.encode("oq")):
            qid = h.emu.tap_raw(EXEC1, m.message_id, data)
            assert (await h.emu.wait_callback_answer(qid))["text"] == "Anda tidak berwenang melakukan tindakan ini."
        qid = h.emu.tap_raw(EXEC1, m.message_id, codec.encode("of", "pdf", "20261231", "20261201"))  # backwards
        assert (await h.emu.wait_callback_answer(qid))["text"] == "Pilihan tidak valid. Silakan ulangi."
        # The admin may look, but not type the Head's actions.
        await h.say(ADMIN, "/rekap", expect="Pilih periode")
        qid = h.emu.tap_raw(ADMIN, h.emu.last_bot_message(ADMIN).message_id,
                            codec.encode("oa", "20261201", "20261231", "A4"))
        assert (await h.emu.wait_callback_answer(qid))["text"] == "Anda tidak berwenang melakukan tindakan ini."
        await h.settle()
        assert not _docs(h, EXEC1, ".pdf") and not [m for m in h.emu.bot_messages(EXEC1) if m.photo]
        from sqlalchemy import func, select

        from storage.models import AuditLog, OversightJob
        async with h.db.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(OversightJob)) == 0
            refused = await s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "refused"))
        assert refused >= 7
    finally:
        await h.close()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # several instances need PostgreSQL
async def test_monthly_report_once_with_two_instances(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    import socket

    from bot.app import BotRuntime
    from handlers import register_all

    h = await _harness(emu, db_url, datetime(2026, 12, 31, 15, 0, tzinfo=D.W), reminder_sweep_seconds=3600)
    with socket.socket() as sock:  # a free loopback port for the second instance's webhook server
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = replace(h.settings, webhook_listen="127.0.0.1", webhook_port=port)
    second = BotRuntime(settings, h.db, register=register_all, clock=h.clock, instance_id="test-2")
    await second.start(mode="webhook")
    try:
        async def both() -> None:
            await asyncio.gather(h.runtime.sweep_reminders(), second.sweep_reminders())  # type: ignore[union-attr]
            await h.settle()
            await second.sender.drain()  # type: ignore[union-attr]

        for at in (datetime(2027, 1, 1, 9, 0, tzinfo=D.W),  # New Year: not a working day
                   datetime(2027, 1, 4, 7, 0, tzinfo=D.W)):  # the first working day, before working hours
            h.clock.set(at)
            await both()
            assert not _docs(h, HEAD, ".pdf")
        h.clock.set(datetime(2027, 1, 4, 7, 31, tzinfo=D.W))
        await both()
        await both()
        for uid in (HEAD, DIVISION):
            docs = _docs(h, uid, ".pdf")
            assert [d.file_name for d in docs] == ["monev-sop-20261201-20261231.pdf"], uid
            assert "Diterima 3 · Selesai 1" in h.emu.last_bot_message(uid).text
        assert not _docs(h, TEAM, ".pdf") and not _docs(h, EXEC1, ".pdf")
        await h.restart()
        h.clock.set(datetime(2027, 1, 6, 8, 0, tzinfo=D.W))  # later that week, after a restart: not again
        await both()
        assert len(_docs(h, HEAD, ".pdf")) == 1 and len(_docs(h, DIVISION, ".pdf")) == 1
    finally:
        await second.stop()
        await h.close()


@pytest.mark.parametrize("sop_file", SOP_FILES, ids=["bogor", "sukamaju"])
def test_the_menu_offers_rekap_to_the_oversight_roles(sop_file) -> None:  # type: ignore[no-untyped-def]
    from bot.services.officials import commands_for, oversight_roles
    from workflow.sopdoc import load

    sop = load(sop_file)
    assert oversight_roles(sop) == {*sop.oversight, "admin"}
    for role in sop.official_roles():
        assert ("rekap" in [c["command"] for c in commands_for(frozenset({role}), sop)]) == (
            role in oversight_roles(sop))


async def test_the_bot_records_what_the_figures_read(h) -> None:  # type: ignore[no-untyped-def]
    """Real transitions store each hop's working time, the passage's, and the days' tallies."""
    from datetime import date

    from sqlalchemy import select

    from storage.figures import load_figures
    from storage.models import OversightDay, RequestStep
    from tests.e2e.flows import division_disposes, head_disposes, team_assigns
    from workflow.oversight import Period

    w = D.W
    await h.submit()  # Monday 30 November 09:00 (drafted and sent at once)
    h.clock.set(datetime(2026, 11, 30, 10, 30, tzinfo=w))
    await head_disposes(h)  # A2: 1.5 h
    h.clock.set(datetime(2026, 11, 30, 11, 0, tzinfo=w))
    await division_disposes(h)  # A3, first hop: 0.5 h
    h.clock.set(datetime(2026, 11, 30, 13, 30, tzinfo=w))
    await team_assigns(h)  # A3, second hop: 1 h before lunch + 0.5 h after; the passage 2 h
    h.clock.set(datetime(2026, 12, 1, 8, 0, tzinfo=w))
    check = await h.wait_msg(EXEC1, "Pemeriksaan kelengkapan")
    await h.tap(EXEC1, check, text=h.button(check, "Lengkap"), expect="Kartu data")  # A4: 2.5 h + 0.5 h
    async with h.db.sessions() as s:
        hops = [(r.stage, r.work_seconds, r.step_seconds) for r in (await s.scalars(
            select(RequestStep).order_by(RequestStep.id))).all()]
        tallies = {(r.day, r.kind, r.key): (r.n, r.on_time, r.worst) for r in (await s.scalars(
            select(OversightDay))).all()}
        env = h.runtime.env  # type: ignore[union-attr]
        fig = await load_figures(s, h.sop, Period(date(2026, 11, 30), date(2026, 12, 1)),
                                 cutoff=h.clock.now(), cal=env.calendar)
    assert hops == [("returned", 0, 0), ("head_review", 5400, 5400), ("division_review", 1800, None),
                    ("team_assign", 5400, 7200), ("completeness", 10800, 10800), ("registration", None, None)]
    mon, tue = date(2026, 11, 30), date(2026, 12, 1)
    ids = {u: await h.official_id(u) for u in (HEAD, DIVISION, TEAM, EXEC1)}
    assert tallies == {
        (mon, "passage", "A1"): (1, 1, 0), (mon, "passage", "A2"): (1, 1, 5400), (mon, "passage", "A3"): (1, 1, 7200),
        (tue, "passage", "A4"): (1, 1, 10800),
        (mon, "hop", f"{ids[HEAD]}:head"): (1, 1, 5400), (mon, "hop", f"{ids[DIVISION]}:division_head"): (1, 1, 1800),
        (mon, "hop", f"{ids[TEAM]}:team_lead"): (1, 1, 5400), (tue, "hop", f"{ids[EXEC1]}:executor"): (1, 1, 10800)}
    assert {k: (d.n, d.median) for k, d in fig.steps.items()} == {
        "A1": (1, 0), "A2": (1, 5400), "A3": (1, 7200), "A4": (1, 10800)}
    assert fig.in_progress == 1 and fig.received == 1 and fig.ageing == {0: 1}
