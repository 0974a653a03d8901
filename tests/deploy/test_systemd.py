"""The shipped systemd unit: valid for systemd, starting what the README says."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "blog.service"


def test_the_unit_is_valid_for_systemd(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    # The unit as an operator installs it, with this checkout's paths and an
    # existing user in place of the operator's.
    env_file = tmp_path / "blog.env"
    env_file.write_text("BLOG_SITE_URL='https://blog.example.org'\n")
    unit = (
        UNIT.read_text()
        .replace("/srv/blog", str(ROOT))
        .replace("/etc/blog.env", str(env_file))
        .replace("User=blog", "User=root")
        .replace("Group=blog", "Group=root")
    )
    installed = tmp_path / "blog.service"
    installed.write_text(unit)
    checked = subprocess.run(
        ["systemd-analyze", "verify", str(installed)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == ""


def test_the_unit_runs_gunicorn_with_the_projects_settings():
    lines = UNIT.read_text().splitlines()
    assert (
        "ExecStart=/srv/blog/.venv/bin/gunicorn -c gunicorn.conf.py wsgi:app" in lines
    )
    assert "WorkingDirectory=/srv/blog" in lines
    assert "EnvironmentFile=/etc/blog.env" in lines
    # gunicorn's master tells systemd it is ready: a notify unit waits for it.
    assert "Type=notify" in lines
