"""The dashboard's pure parts: settings, plots' series, actions by state, template errors."""

from __future__ import annotations

import pytest
from one_web.settings import Settings
from one_web.views.auth import _safe_next
from one_web.views.dashboard import cloud_series
from one_web.views.template_form import syntax_error
from one_web.views.vm_actions import available, progress

from one_core.config import OnedConfig
from one_core.db.monitoring_models import DEFAULT_RETENTION
from one_core.errors import ConfigError
from one_core.vm.states import LcmState, VmState


def test_settings_from_env(tmp_path) -> None:
    key = tmp_path / "key"
    key.write_text("s3cret\n")
    s = Settings.from_env(
        {"ONE_XMLRPC": "http://h:2633/RPC2", "ONE_WEB_SECRET_FILE": str(key)}, port=None
    )
    assert s.oned == "http://h:2633/RPC2/modern"
    assert s.secret_key == "s3cret"
    assert not s.secure_cookie
    assert Settings.from_env({"ONE_WEB_SECURE_COOKIE": "1"}).secure_cookie
    assert Settings.from_env({}, oned="http://x/RPC2/modern").oned == "http://x/RPC2/modern"
    assert Settings.from_env({}).secret_key != Settings.from_env({}).secret_key


def test_cloud_series_sums_each_hosts_latest_record() -> None:
    records = [
        {"time": 10, "hid": 0, "max_cpu": 800, "cpu_usage": 0},
        {"time": 11, "hid": 1, "max_cpu": 400, "cpu_usage": 100},
        {"time": 12, "hid": 0, "max_cpu": 800, "cpu_usage": 200},
    ]
    series = cloud_series(records)
    assert series["time"] == [10, 11, 12]
    assert series["max_cpu"] == [800, 1200, 1200]
    assert series["cpu_usage"] == [0, 100, 300]
    assert cloud_series(records, step=10)["time"] == [10]


def test_actions_follow_the_state() -> None:
    running = [a.name for a in available(VmState.ACTIVE, LcmState.RUNNING, admin=False)]
    assert running == ["stop", "suspend", "shutdown", "cancel"]
    admin = [a.name for a in available(VmState.ACTIVE, LcmState.RUNNING, admin=True)]
    assert "livemigrate" in admin
    assert [a.name for a in available(VmState.STOPPED, 0, admin=False)] == ["resume", "delete"]
    assert [a.name for a in available(VmState.PENDING, 0, admin=False)] == ["hold", "delete"]
    assert available(VmState.DONE, 0, admin=True) == []


@pytest.mark.parametrize(
    ("state", "steps"),
    [
        (
            "PROLOG",
            [("PENDING", "done"), ("PROLOG", "current"), ("BOOT", "todo"), ("RUNNING", "todo")],
        ),
        ("EPILOG_STOP", [("SAVE_STOP", "done"), ("EPILOG_STOP", "current"), ("STOPPED", "todo")]),
        ("HOLD", []),
    ],
)
def test_progress(state: str, steps: list[tuple[str, str]]) -> None:
    assert progress(state) == steps


def test_syntax_error_points_at_the_line() -> None:
    assert syntax_error('NAME = "a"\nCPU = 1\n') is None
    error = syntax_error('NAME = "a"\nCPU 1\nMEMORY = 2')
    assert error is not None and error["line"] == 2 and "syntax error" in error["message"]
    error = syntax_error('NAME = "a"\nMEMORY = [ 2')  # at the end: the last line
    assert error is not None and error["line"] == 2


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/vms/3", "/vms/3"),
        ("//evil.example/", "/"),
        ("https://evil.example", "/"),
        ("/\\\\x", "/"),
    ],
)
def test_login_redirects_stay_on_the_site(target: str, safe: str) -> None:
    assert _safe_next(target) == safe


def test_monitoring_history_setting() -> None:
    assert (
        OnedConfig.from_text("PORT = 2633\n", var_dir="/v").monitoring_history == DEFAULT_RETENTION
    )
    assert OnedConfig.from_text("MONITORING_HISTORY = 0\n", var_dir="/v").monitoring_history == 0
    with pytest.raises(ConfigError, match="MONITORING_HISTORY"):
        OnedConfig.from_text("MONITORING_HISTORY = -5\n", var_dir="/v")
