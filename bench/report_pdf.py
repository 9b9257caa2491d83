"""The activity report PDF: time to render it (cold: the first in a process, with the PDF library's
import and the fonts; warm: the next ones).

    .venv/bin/python bench/report_pdf.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

W = ZoneInfo("Asia/Jakarta")


def data():  # type: ignore[no-untyped-def]
    from bot.report import Issuer, ReportData, ReportStep
    from workflow.sopdoc import DEFAULT_SOP, load

    sop = load(DEFAULT_SOP)

    t0 = datetime(2026, 11, 30, 9, tzinfo=W)
    labels = ["Langkah 1 — Surat permohonan", "Disposisi Kepala", "Disposisi Kepala Bidang", "Penugasan",
              "Pemeriksaan kelengkapan", "Pendaftaran akun SPLP", "Penyusunan laporan kegiatan"]
    steps = [ReportStep(step_label=lab, holder="Budi Pranoto (Pejabat Fungsional/Pelaksana)",
                        received=t0 + timedelta(hours=3 * i), done=t0 + timedelta(hours=3 * i + 2),
                        limit="1 hari kerja", due=t0 + timedelta(days=1, hours=3 * i)) for i, lab in enumerate(labels)]
    return ReportData(issuer=Issuer.of(sop), title=sop.doc.report.title, report_number="LAP-SPLP-2026-000001", request_number="SPLP-2026-000001", date=date(2026, 12, 1),
                      agency_name="Dinas Kesehatan", agency_short="Dinkes", letter_number="000.1/123-Dinkes/2026",
                      letter_date=date(2026, 11, 27), subject="Permohonan Pembuatan Akun SPLP",
                      contact_name="Siti Aminah", contact_email="si***@kotabogor.go.id",
                      contact_phone="+62 812-****-7890", app_name="SIMPUS Kota Bogor",
                      business_process="SIMPUS mengirim data kunjungan pasien puskesmas melalui SPLP. " * 5,
                      steps=steps, account_username="dinkes.simpus@kotabogor.go.id",
                      delivery="Kata sandi awal disampaikan melalui Telegram kepada narahubung terverifikasi",
                      executor_name="Budi Pranoto", executor_title="Pejabat Fungsional/Pelaksana",
                      note="Akun diuji masuk oleh narahubung pada hari yang sama.")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    t = time.perf_counter()
    from bot.report import render_report
    pdf = render_report(data())
    cold = (time.perf_counter() - t) * 1000
    warm = []
    for _ in range(args.runs):
        t = time.perf_counter()
        render_report(data())
        warm.append((time.perf_counter() - t) * 1000)
    print(f"activity report PDF ({len(pdf):,} bytes, 7 steps): cold {cold:.0f} ms (import, fonts, render); "
          f"warm median {statistics.median(warm):.0f} ms, max {max(warm):.0f} ms over {args.runs}")


if __name__ == "__main__":
    main()
