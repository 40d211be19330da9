"""Pages under load: gunicorn on loopback (deploy/gunicorn.conf.py) serving the bench
database, and locust in a second process with N concurrent users on one page at a time."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from staff.demo import DEMO_PASSWORD

from .pages import CLIENT_EMAIL, STAFF_EMAIL, Page
from .stats import median, percentile

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
EMAILS = {"staff": STAFF_EMAIL, "client": CLIENT_EMAIL}


@dataclass
class LoadResult:
    page: Page
    times_ms: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)  # req/s of each repeat
    errors: list[str] = field(default_factory=list)
    repeat_p95s: list[float] = field(default_factory=list)  # each repeat's own p95

    @property
    def p50(self) -> float:
        return percentile(self.times_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.times_ms, 95)

    @property
    def p99(self) -> float:
        return percentile(self.times_ms, 99)

    @property
    def rate(self) -> float:
        return median(self.rates)


@contextmanager
def gunicorn(*, env: dict, port: int, workers: int, log: Path):
    """gunicorn -c deploy/gunicorn.conf.py cms_project.wsgi, stopped on exit."""
    env = {
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_ACCESS_LOG": "",  # logging every request is not what is measured
        "GUNICORN_PROC_NAME": "fibercms-bench",
    }
    gunicorn_bin = Path(sys.executable).with_name("gunicorn")
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(gunicorn_bin), "-c", "deploy/gunicorn.conf.py", "cms_project.wsgi"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with all its workers
        )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/healthz", process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped at start-up:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f} s")


def run_locust(*, host: str, page: Page, users: int, seconds: float, env: dict) -> dict:
    """One headless locust run on one page; returns {"times_ms", "errors", "span_s"}."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = Path(out.name)
    run_env = {
        **env,
        "BENCH_PATH": page.path,
        "BENCH_EMAIL": EMAILS[page.role],
        "BENCH_PASSWORD": DEMO_PASSWORD,
        "BENCH_OUT": str(out_path),
        "BENCH_USERS": str(users),
        "BENCH_SECONDS": str(seconds),
    }
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        # A cap: the locustfile stops the run `seconds` after every user has logged in.
        "--run-time",
        f"{round(seconds) + 120}s",
        "--stop-timeout",
        "10",
        "--host",
        host,
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    completed = subprocess.run(
        command, env=run_env, capture_output=True, text=True, timeout=seconds + 240
    )
    try:
        data = json.loads(out_path.read_text() or "{}")
    except (OSError, json.JSONDecodeError):
        data = {}
    finally:
        out_path.unlink(missing_ok=True)
    if "times_ms" not in data:
        raise RuntimeError(f"locust wrote no results:\n{completed.stderr[-3000:]}")
    return data


def load_pages(
    *,
    pages: list[Page],
    env: dict,
    users: int,
    seconds: float,
    repeats: int,
    port: int,
    workers: int,
    log: Path,
) -> list[LoadResult]:
    """Each page `repeats` times (pages interleaved, so a noisy minute hits all of them)."""
    results = {page.key: LoadResult(page=page) for page in pages if page.path}
    with gunicorn(env=env, port=port, workers=workers, log=log) as host:
        for _ in range(repeats):
            for result in results.values():
                data = run_locust(
                    host=host, page=result.page, users=users, seconds=seconds, env=env
                )
                result.times_ms.extend(data["times_ms"])
                result.errors.extend(data["errors"])
                count = len(data["times_ms"])
                result.rates.append((count - 1) / data["span_s"] if data["span_s"] else 0.0)
                result.repeat_p95s.append(percentile(data["times_ms"], 95))
    return list(results.values())


def worker_count() -> int:
    """deploy/gunicorn.conf.py: 2 per core is enough when PostgreSQL shares the machine."""
    return 2 * (os.cpu_count() or 1)
