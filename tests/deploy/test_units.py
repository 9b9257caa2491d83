"""The files in deploy/ are valid for the tools that read them: systemd-analyze verify (and its
security rating) for the units, nginx -t for the site with its TLS lines as written (a self-signed
certificate at the placeholder paths' place)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.stack import DEPLOY, ROOT, SITE, Nginx, debian_tool, free_port, main_conf

UNITS = {"splp-bot@.service": "splp-bot@8081.service", "splp-bot.service": "splp-bot.service"}


def local_unit(text: str) -> str:
    """The unit with paths of this checkout (verify checks that ExecStart exists) and an existing user."""
    return (text.replace("/opt/splp-bot/.venv/bin/python", sys.executable)
            .replace("WorkingDirectory=/opt/splp-bot", f"WorkingDirectory={ROOT}")
            .replace("User=splp-bot", "User=root").replace("Group=splp-bot", "Group=root"))


@pytest.mark.parametrize("name", sorted(UNITS))
def test_systemd_units(name: str, tmp_path: Path) -> None:
    text = (DEPLOY / "systemd" / name).read_text()
    for line in ("Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict", "User=splp-bot",
                 "EnvironmentFile=/etc/splp-bot/splp-bot.env", "StateDirectory=splp-bot"):
        assert line in text.splitlines(), line
    if name.startswith("splp-bot@"):
        assert "Environment=WEBHOOK_PORT=%i" in text and "Environment=INSTANCE_ID=%H-%i" in text
        assert re.search(r"^ExecStart=.* main\.py run --webhook$", text, re.M)
    tool = debian_tool("systemd-analyze", "systemd")
    (tmp_path / name).write_text(local_unit(text))
    r = subprocess.run([tool, "verify", "--man=no", str(tmp_path / UNITS[name])], capture_output=True, text=True,
                       cwd=tmp_path, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    r = subprocess.run([tool, "security", "--offline=yes", str(tmp_path / name)], capture_output=True, text=True,
                       timeout=60)
    exposure = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout + r.stderr).group(1))  # type: ignore[union-attr]
    assert exposure <= 2.5, r.stdout[-2000:]


def test_nginx_site_with_tls(tmp_path: Path) -> None:
    binary = debian_tool("nginx", "nginx")
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=bot.example.go.id", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    site = SITE.read_text()
    site = site.replace("/etc/letsencrypt/live/bot.example.go.id/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/bot.example.go.id/privkey.pem", str(key))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    # Ports only (nginx -t binds nothing, but keep it from meaning the system's 80/443).
    site = re.sub(r"listen (\[::\]:)?443 ssl;", lambda m: f"listen {m.group(1) or ''}{free_port()} ssl;", site)
    site = re.sub(r"listen (\[::\]:)?80;", lambda m: f"listen {m.group(1) or ''}{free_port()};", site)
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "tmp").mkdir()
    (tmp_path / "nginx.conf").write_text(main_conf(tmp_path, tmp_path / "site.conf"))
    n = Nginx(binary, tmp_path, 0, 0)
    r = n.test_config()
    assert r.returncode == 0 and "syntax is ok" in r.stderr, r.stderr
