"""Settings from the environment and ``.env``: which wins, the types, and a wrong value named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import MissingSetting, Settings
from workflow.machine import ResubmitRoute


def test_environment_over_env_file_and_given_over_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    env.write_text("request_timeout=4\nPOLL_TIMEOUT=7\nDATA_DIR=from-file\nLOG_FORMAT=json\n", "utf-8")
    monkeypatch.setenv("POLL_TIMEOUT", "9")
    monkeypatch.setenv("METRICS_PORT", "9100")
    monkeypatch.setenv("RESUBMIT_ROUTE", "executor")
    s = Settings.from_env(env, data_dir="given")
    assert s.request_timeout == 4.0 and s.poll_timeout == 9 and s.metrics_port == 9100
    assert s.data_dir == Path("given") and s.log_format == "json" and s.resubmit_route is ResubmitRoute.EXECUTOR
    assert Settings.from_env(None).request_timeout == 10.0  # no file: the default


def test_a_plain_settings_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLL_TIMEOUT", "9")
    s = Settings(data_dir="x")  # type: ignore[arg-type]
    assert s.poll_timeout == 25 and s.data_dir == Path("x")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("REQUEST_TIMEOUT", "sepuluh", "invalid setting: REQUEST_TIMEOUT: Expected `float`, got `str`"),
    ("OVERSIGHT_ON_TIME_THRESHOLD", "1.5", "invalid setting: OVERSIGHT_ON_TIME_THRESHOLD: Expected `float` <= 1.0"),
    ("LOG_FORMAT", "xml", "invalid setting: LOG_FORMAT: Invalid enum value 'xml'"),
    ("TIMEZONE", "Asia/Bogor", "invalid setting: TIMEZONE: unknown time zone 'Asia/Bogor'"),
    ("OUTBOX_LEASE_SECONDS", "5", "invalid setting: OUTBOX_LEASE_SECONDS must be at least 2.5 x REQUEST_TIMEOUT"),
])
def test_a_wrong_value_is_named(name: str, value: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(MissingSetting) as err:
        Settings.from_env(None)
    assert str(err.value) == message


def test_a_path_given_as_something_else_is_named() -> None:
    with pytest.raises(MissingSetting) as err:
        Settings.from_env(None, data_dir=123)
    assert str(err.value) == "invalid setting: DATA_DIR: Expected a path, got `int`"
