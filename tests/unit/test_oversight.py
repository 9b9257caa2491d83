"""The oversight's pure parts: periods, order statistics, ageing boundaries, the monthly window,
passages, tallies, and the words the three renderings share."""

from __future__ import annotations

import random
import statistics
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.monev_text import duration, percent, step_label
from workflow.calendar import default_calendar
from workflow.form import Invalid
from workflow.oversight import (
    Distribution,
    Period,
    PeriodKind,
    earlier_hops,
    ends_passage,
    moment_before,
    monthly_window,
    parse_period,
    passage_tally,
    percentile,
    period_of,
    ranks_for,
)
from tests.sopfiles import bogor, sukamaju

SOP = bogor()
STEPS = SOP.steps

W = ZoneInfo("Asia/Jakarta")
CAL = default_calendar([2025, 2026, 2027])


@pytest.mark.parametrize(("kind", "today", "start", "end"), [
    (PeriodKind.THIS_MONTH, date(2026, 2, 10), date(2026, 2, 1), date(2026, 2, 28)),
    (PeriodKind.LAST_MONTH, date(2026, 1, 5), date(2025, 12, 1), date(2025, 12, 31)),
    (PeriodKind.THIS_QUARTER, date(2026, 12, 6), date(2026, 10, 1), date(2026, 12, 31)),
    (PeriodKind.THIS_QUARTER, date(2026, 1, 1), date(2026, 1, 1), date(2026, 3, 31)),
    (PeriodKind.THIS_YEAR, date(2026, 7, 1), date(2026, 1, 1), date(2026, 12, 31)),
])
def test_periods(kind: PeriodKind, today: date, start: date, end: date) -> None:
    assert period_of(kind, today) == Period(start, end)


def test_typed_periods() -> None:
    today = date(2026, 12, 6)
    for text in ("01-10-2026 s.d. 31-12-2026", "1/10/2026 sampai 31/12/2026", "2026-10-01 - 2026-12-31",
                 "01-10-2026 s.d 31-12-2026", "01.10.2026 hingga 31.12.2026"):
        assert parse_period(text, today) == Period(date(2026, 10, 1), date(2026, 12, 31)), text
    for text, code in (("kemarin", "date_format"), ("31-12-2026 s.d. 01-10-2026", "range_backwards"),
                       ("30-02-2026 s.d. 01-03-2026", "date_not_exist"), ("07-12-2026 s.d. 31-12-2026", "date_future"),
                       ("01-01-2020 s.d. 31-12-2026", "range_too_long")):
        with pytest.raises(Invalid) as e:
            parse_period(text, today)
        assert e.value.code == code, text
    p = Period(date(2026, 12, 14), date(2026, 12, 20))
    assert p.bounds(W) == (datetime(2026, 12, 14, tzinfo=W), datetime(2026, 12, 21, tzinfo=W))
    assert p.trend_months()[0] == date(2026, 7, 1) and len(Period(date(2025, 1, 1), date(2026, 12, 31))
                                                             .trend_months()) == 24


def test_percentiles_match_linear_interpolation() -> None:
    rng = random.Random(7)
    for n in list(range(1, 30)) + [101, 1000]:
        values = sorted(rng.randint(0, 50_000) for _ in range(n))
        ranks = {k: values[k] for k in ranks_for(n)}
        assert len(ranks) <= 4
        for p in (50, 90):
            # statistics.quantiles(method="inclusive") is the same definition (PostgreSQL's percentile_cont).
            expected = values[0] if n == 1 else statistics.quantiles(values, n=100, method="inclusive")[p - 1]
            assert percentile(n, ranks, p) == pytest.approx(expected, abs=1e-9), (n, p)
    d = Distribution(4, 3, 40, {1: 10, 2: 20, 3: 40})
    assert (d.median, d.p90, d.late, d.on_time_share) == (15, 34, 1, 0.75)
    assert Distribution().median is None and Distribution().on_time_share is None


def test_moment_before_counts_working_time_back() -> None:
    t = datetime(2026, 12, 28, 9, 0, tzinfo=W)  # Monday after Christmas (24 and 25 December off)
    assert moment_before(CAL, t, CAL.standard_day) == datetime(2026, 12, 23, 9, 0, tzinfo=W)
    # At Monday's opening, one working day back is all of Wednesday 23 December: the earliest such moment
    # is Tuesday's close (a deadline then is exactly one working day late).
    assert moment_before(CAL, datetime(2026, 12, 28, 7, 30, tzinfo=W), CAL.standard_day) == \
        datetime(2026, 12, 22, 16, 0, tzinfo=W)
    rng = random.Random(3)
    for _ in range(200):
        t = datetime(2026, 11, 1, tzinfo=W) + timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        w = timedelta(minutes=rng.randint(0, 60 * 40))
        m = moment_before(CAL, t, w)
        assert CAL.working_time_between(m, t) == w
        assert CAL.working_time_between(m - timedelta(minutes=1), t) >= w


def test_monthly_window() -> None:
    nov = Period(date(2026, 11, 1), date(2026, 11, 30))
    assert monthly_window(CAL, date(2026, 12, 1)) == nov  # Tuesday, the first working day
    assert monthly_window(CAL, date(2026, 12, 7)) == nov  # the fifth working day: still sent if it was missed
    assert monthly_window(CAL, date(2026, 12, 8)) is None
    assert monthly_window(CAL, date(2027, 1, 1)) is None  # New Year
    dec = Period(date(2026, 12, 1), date(2026, 12, 31))
    assert monthly_window(CAL, date(2027, 1, 4)) == dec and monthly_window(CAL, date(2027, 1, 11)) == dec
    assert monthly_window(CAL, date(2027, 1, 12)) is None  # 5 January is a holiday too


def test_passages_and_tallies() -> None:
    assert earlier_hops(SOP, "team_assign") == ("division_review",)
    assert earlier_hops(SOP, "division_review") == () and earlier_hops(SOP, "report") == ()
    assert not ends_passage(SOP, "division_review", "team_assign")
    assert ends_passage(SOP, "team_assign", "completeness") and ends_passage(SOP, "forward", "done")
    assert ends_passage(SOP, "completeness", "returned") and ends_passage(SOP, "returned", "cancelled")
    two = sukamaju()  # one hop per step: every hop ends its passage
    assert earlier_hops(two, "kabid_assign") == () and ends_passage(two, "kadis_review", "kabid_assign")
    done = datetime(2026, 12, 31, 23, 30, tzinfo=W)  # still 31 December in WIB, 1 January nowhere
    t = passage_tally(STEPS["A1"], done, None, 27000, "submitted", CAL)  # the requester's step: no deadline
    assert (t.day, t.kind, t.key, t.on_time) == (date(2026, 12, 31), "passage", "A1", True)
    assert not passage_tally(STEPS["A1"], done, None, 27001, None, CAL).on_time
    late = passage_tally(STEPS["A4"], done, done - timedelta(seconds=1), 60, "return", CAL)
    assert not late.on_time and late.returned


def test_words() -> None:
    day = 27000
    assert duration(0, day) == "0 menit" and duration(59, day) == "0 menit" and duration(3600, day) == "1 jam"
    assert duration(5400, day) == "1 jam 30 menit" and duration(27000, day) == "1 hari"
    assert duration(28080, day) == "1 hari" and duration(41760, day, long=True) == "1 hari kerja 4 jam"
    assert duration(None, day) == "—" and percent(0.805) == "80%" and percent(None) == "—"
    assert step_label(SOP, STEPS["A3"]) == "Disposisi Kepala Bidang E-Government / Penugasan oleh Ketua Tim Aplikasi"
    assert step_label(SOP, STEPS["A1"]) == STEPS["A1"].output and step_label(SOP, STEPS["B3"]) == STEPS["B3"].title


def test_summary_fits_one_message_with_many_officials() -> None:
    import re

    from bot.monev_text import summary_html
    from workflow.monev import Figures, HolderRow, build_report

    p = Period(date(2026, 1, 1), date(2026, 12, 31))
    dist = Distribution(5, 4, 9000, {2: 3600, 3: 5000, 4: 9000})
    holders = [HolderRow(i, f"Pejabat Dengan Nama Yang Cukup Panjang Nomor {i} <&>", "executor", dist)
               for i in range(40)]
    fig = Figures(received=9, steps={s: dist for s in STEPS}, holders=holders,
                  missing={"contact_phone": 3, "business_process": 1})
    r = build_report(SOP, fig, p, cutoff=datetime(2026, 12, 6, tzinfo=W), generated_at=datetime(2026, 12, 6, tzinfo=W),
                     cal=CAL, threshold=0.8)
    text = summary_html(r, W)
    assert len(text) <= 4096 and "… dan 28 lainnya" in text and "&lt;&amp;&gt;" in text
    for line in text.split("\n"):  # each line closes the tags it opens
        assert re.findall(r"<(\w+)>", line) == re.findall(r"</(\w+)>", line), line
