"""The production path on loopback: nginx (Debian's package) with deploy/nginx/splp-bot.conf and
bot instances run as deploy/systemd/splp-bot@.service would run them (its Environment= and
ExecStart=), each a separate OS process so that it can be killed with SIGKILL."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SITE = DEPLOY / "nginx" / "splp-bot.conf"
UNIT = DEPLOY / "systemd" / "splp-bot@.service"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def debian_tool(binary: str, package: str) -> str:
    """The path of ``binary``; under CI=true its Debian package is installed when missing,
    elsewhere the test is skipped with the reason."""
    found = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if found:
        return found
    if not IN_CI:
        pytest.skip(f"{binary} is not installed (apt-get install {package}); under CI=true it is installed")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], env=env, check=False)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", package], env=env, check=True)
    found = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    assert found, f"{package} installed but {binary} not found"
    return found


# --- nginx ---------------------------------------------------------------------------------

def site_for_loopback(site: str, *, https_port: int, http_port: int, upstreams: list[int], logs: Path) -> str:
    """deploy/nginx/splp-bot.conf with only what cannot run here changed: the TLS lines (listen 443 ssl
    -> plain HTTP on a loopback port, no certificate lines), port 80 -> a loopback port, the instances'
    ports, and the log directory. Everything else (upstream, proxying, retries, limits) is verbatim."""
    out, changed = [], 0
    ports = iter(upstreams)
    for line in site.splitlines():
        s = line.strip()
        new: str | None = line
        if re.fullmatch(r"listen \[::\]:(443 ssl|80);", s):
            new = None
        elif s == "listen 443 ssl;":
            new = line.replace(s, f"listen 127.0.0.1:{https_port};")
        elif s == "listen 80;":
            new = line.replace(s, f"listen 127.0.0.1:{http_port};")
        elif s.startswith("ssl_"):
            new = None
        elif re.match(r"server 127\.0\.0\.1:\d+ ", s):
            new = re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{next(ports)}", line)
        elif "/var/log/nginx/" in s:
            new = line.replace("/var/log/nginx/", f"{logs}/")
        if new != line:
            changed += 1
        if new is not None:
            out.append(new)
    assert next(ports, None) is None, "the site names fewer instances than the test starts"
    # 2 listen + 2 IPv6 listen + 5 ssl_* + 2 instances + 1 access_log: nothing else may differ
    assert changed == 12, f"the site changed in {changed} lines; update site_for_loopback"
    return "\n".join(out) + "\n"


def main_conf(prefix: Path, site: Path) -> str:
    user = "user root root;\n" if os.geteuid() == 0 else ""
    tmp = prefix / "tmp"
    return (f"{user}worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log info;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            f"    client_body_temp_path {tmp}/body;\n    proxy_temp_path {tmp}/proxy;\n"
            f"    fastcgi_temp_path {tmp}/fastcgi;\n    uwsgi_temp_path {tmp}/uwsgi;\n"
            f"    scgi_temp_path {tmp}/scgi;\n"
            f"    include {site};\n"
            "}\n")


@dataclass
class Nginx:
    binary: str
    prefix: Path
    https_port: int
    http_port: int
    proc: subprocess.Popen[bytes] | None = None

    def args(self, *extra: str) -> list[str]:
        return [self.binary, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"),
                "-e", str(self.prefix / "error.log"), *extra]

    @classmethod
    def configure(cls, binary: str, prefix: Path, upstreams: list[int]) -> Nginx:
        (prefix / "tmp").mkdir(parents=True, exist_ok=True)
        (prefix / "logs").mkdir(exist_ok=True)
        n = cls(binary, prefix, free_port(), free_port())
        site = prefix / "splp-bot.conf"
        site.write_text(site_for_loopback(SITE.read_text(), https_port=n.https_port, http_port=n.http_port,
                                          upstreams=upstreams, logs=prefix / "logs"))
        (prefix / "nginx.conf").write_text(main_conf(prefix, site))
        return n

    def test_config(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.args("-t"), capture_output=True, text=True, timeout=30)

    async def start(self) -> None:
        self.proc = subprocess.Popen(self.args("-g", "daemon off;"), stdout=subprocess.DEVNULL,
                                     stderr=open(self.prefix / "stderr.log", "ab"))
        await wait_port(self.https_port, self.proc, what="nginx", log=self.prefix / "error.log")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: workers finish their requests
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def access_log(self) -> list[str]:
        path = self.prefix / "logs" / "splp-bot.access.log"
        return path.read_text().splitlines() if path.exists() else []


async def wait_port(port: int, proc: subprocess.Popen[bytes], *, what: str, log: Path, timeout: float = 30) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}:\n{log.read_text()[-3000:] if log.exists() else ''}")
        try:
            _r, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"{what} did not listen on {port} within {timeout} s")


# --- bot instances as the systemd unit runs them ------------------------------------------

def unit_environment(unit: str, instance: str, host: str) -> dict[str, str]:
    env = {}
    for line in unit.splitlines():
        if line.startswith("Environment="):
            k, _, v = line[len("Environment="):].partition("=")
            env[k] = v.replace("%i", instance).replace("%H", host)
    return env


def unit_command(unit: str) -> list[str]:
    line = next(x for x in unit.splitlines() if x.startswith("ExecStart="))
    argv = line[len("ExecStart="):].split()
    assert argv[0].endswith("/python"), argv
    return [sys.executable, str(ROOT / argv[1]), *argv[2:]]


@dataclass
class Instance:
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def name(self) -> str:
        return self.env["INSTANCE_ID"]

    async def start(self) -> None:
        self.starts += 1
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(unit_command(UNIT.read_text()), cwd=ROOT, env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT)
        await self.wait_ready()

    async def wait_ready(self, timeout: float = 40) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        async with httpx.AsyncClient(timeout=2) as c:
            while loop.time() < end:
                if self.proc is not None and self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n"
                                         f"{self.log.read_text()[-3000:]}")
                try:
                    if (await c.get(f"http://127.0.0.1:{self.port}/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} not ready within {timeout} s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)


@dataclass
class Stack:
    nginx: Nginx
    instances: list[Instance] = field(default_factory=list)

    def stop(self) -> None:
        for i in self.instances:
            i.stop()
        self.nginx.stop()
