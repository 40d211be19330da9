"""`make audit`: Lighthouse on the log-in page, the staff dashboard and the portal home of the
app served as in production, with the scores written into docs/benchmarks.md.

What it runs, in order:
1. production settings (`cms_project.settings.production`: DEBUG off, WhiteNoise serving
   collected, compressed, hashed static files) with a throw-away SECRET_KEY, on a fresh SQLite
   file under test-artifacts/lighthouse/ (or AUDIT_DATABASE_URL, e.g. a PostgreSQL database
   made for it — never DATABASE_URL, as the demo logins are loaded); `collectstatic`,
   `migrate`, `seed_demo --force`;
2. gunicorn from the virtualenv with deploy/gunicorn.conf.py on 127.0.0.1:AUDIT_PORT;
3. log-ins over plain HTTP with urllib (the log-in form, CSRF token and all), keeping the
   session cookie of the staff and of the client demo accounts;
4. Lighthouse (tools/lighthouse/node_modules, Debian's Chromium via CHROME_PATH, never a
   downloaded browser), mobile and desktop presets, AUDIT_RUNS runs per page, median scores;
   the logged-in pages get the session cookie through `--extra-headers`.

Only one production flag is changed: SECURE_SSL_REDIRECT=false, because there is no TLS on
127.0.0.1. Production cookies are `Secure`, which a browser does not store from a plain-HTTP
response — but Lighthouse never needs to store one: the cookie is sent as a request header,
so no settings module that weakens cookies is needed. Reports (JSON + HTML) are kept under
test-artifacts/lighthouse/ for reading.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools" / "lighthouse"
WORK = ROOT / "test-artifacts" / "lighthouse"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- lighthouse:start -->", "<!-- lighthouse:end -->"

PY = sys.executable
GUNICORN = str(Path(PY).parent / "gunicorn")
LIGHTHOUSE = TOOLS / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)
CATEGORIES = ("performance", "accessibility", "best-practices")
TARGET = 95
PORT = int(os.environ.get("AUDIT_PORT", "8765"))
RUNS = int(os.environ.get("AUDIT_RUNS", "3"))
if RUNS < 1:
    raise SystemExit("AUDIT_RUNS must be 1 or more")
BASE = f"http://127.0.0.1:{PORT}"
DEMO_PASSWORD = "demo-pass-2026"  # staff/demo.py; the audit only ever uses the demo data

PAGES = [
    # (label, path, demo account to log in as or None)
    ("Log-in page", "/accounts/login/", None),
    ("Staff dashboard", "/staff/", "staff@dataplusfiber.example"),
    ("Portal home", "/portal/", "client@dataplusfiber.example"),
]
PRESETS = ["mobile", "desktop"]

# Written under the table on every run: what the figures mean and what was done about misses.
NOTES = """
How to read it, and what is left:

- Static files are what make these scores: collected with hashed names, served by WhiteNoise
  pre-compressed (Brotli: Bootstrap's CSS goes over the wire as 23 KB of 232 KB, its JS 22 KB of
  81 KB) with `Cache-Control: max-age=315360000, public, immutable`; scripts are at the end of
  the body; no web fonts, no images but an SVG icon, nothing from another origin (CSP
  `default-src 'self'`). `make audit` stops if the page links unhashed or uncompressed static
  files, so it cannot measure a development server by mistake.
- Lighthouse still lists, without scoring them: the Bootstrap stylesheet as render-blocking
  (inlining critical CSS would need `style-src 'unsafe-inline'`, which the CSP forbids), unused
  CSS (~21 KB compressed: the full Bootstrap build; a purged build would add a Node build step for
  a one-off 23 KB file that is cached for a year), and the HTML itself not compressed — gunicorn
  does not compress, and the pages are 3–4 KB; see docs/deployment.md (nginx) for why HTML
  compression is left off by default.
- Mobile figures come from Lighthouse's simulated throttling (a trace on this machine scaled
  to a slow phone on slow 4G), so they move by a few points between runs on a busy machine; the
  median of several runs is recorded, with the range in brackets when runs differ.
- Plain HTTP on 127.0.0.1 is a secure context for Lighthouse (`is-on-https` passes); real
  deployments are HTTPS-only (docs/deployment.md).
"""


def log(message: str) -> None:
    print(f"audit: {message}", flush=True)


def app_environment() -> dict:
    env = os.environ.copy()
    env.update(
        DJANGO_SETTINGS_MODULE="cms_project.settings.production",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",  # no TLS on loopback; see the module docstring
        EMAIL_URL="consolemail://",
        CELERY_BROKER_URL="",  # nothing to send; tasks would run in-process
        MEDIA_ROOT=str(WORK / "media"),
        GUNICORN_BIND=f"127.0.0.1:{PORT}",
        GUNICORN_ACCESS_LOG=str(WORK / "gunicorn-access.log"),
        PYTHONUNBUFFERED="1",
    )
    # Never the DATABASE_URL of the environment: the audit loads the demo logins, whose password
    # is public, into the database it uses. AUDIT_DATABASE_URL picks one on purpose.
    database = WORK / "audit.sqlite3"
    env["DATABASE_URL"] = os.environ.get("AUDIT_DATABASE_URL") or f"sqlite:///{database}"
    return env


def manage(env: dict, *args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def port_is_free() -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", PORT)) != 0


def check_served_as_in_production() -> None:
    """The page links hashed static files, and they come back compressed and cacheable."""
    with urllib.request.urlopen(f"{BASE}/accounts/login/") as response:
        html = response.read().decode()
    css = re.search(r'href="(/static/vendor/bootstrap[^"]+\.css)"', html).group(1)
    if not re.search(r"\.[0-9a-f]{12}\.css$", css):
        raise SystemExit(f"static URL {css} is not hashed: not the production storage?")
    request = urllib.request.Request(f"{BASE}{css}", headers={"Accept-Encoding": "br, gzip"})
    with urllib.request.urlopen(request) as response:
        encoding = response.headers.get("Content-Encoding")
        cache = response.headers.get("Cache-Control", "")
    if encoding not in ("br", "gzip") or "immutable" not in cache:
        raise SystemExit(f"{css}: Content-Encoding {encoding!r}, Cache-Control {cache!r}")
    log(f"static files: hashed names, {encoding}, {cache!r}")


def wait_until_up(process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {process.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"{BASE}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer {BASE}/healthz within {timeout:.0f} s")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def log_in(email: str) -> str:
    """Log in through the real form; return the Cookie header of the session."""
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(f"{BASE}/accounts/login/") as response:
        html = response.read().decode()
        cookies = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie"):
            cookies.load(header)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": email, "password": DEMO_PASSWORD}
    ).encode()
    request = urllib.request.Request(
        f"{BASE}/accounts/login/",
        data=form,
        headers={"Cookie": f"csrftoken={cookies['csrftoken'].value}"},
    )
    try:
        opener.open(request)
        raise SystemExit(f"logging in as {email} did not redirect: wrong demo password?")
    except urllib.error.HTTPError as redirect:
        if redirect.code != 302:
            raise SystemExit(f"logging in as {email} answered {redirect.code}") from None
        for header in redirect.headers.get_all("Set-Cookie"):
            cookies.load(header)
    return "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())


def lighthouse(url: str, *, preset: str, cookie: str | None, name: str) -> dict:
    args = [
        "node",
        str(LIGHTHOUSE),
        url,
        "--quiet",
        f"--chrome-flags={CHROME_FLAGS}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--output=json",
        "--output=html",
        f"--output-path={WORK / name}",
    ]
    if preset == "desktop":
        args.append("--preset=desktop")
    if cookie:
        headers = WORK / "headers.json"
        headers.write_text(json.dumps({"Cookie": cookie}))
        args.append(f"--extra-headers={headers}")
    env = {**os.environ, "CHROME_PATH": CHROME, "PUPPETEER_SKIP_DOWNLOAD": "1"}
    subprocess.run(args, cwd=TOOLS, env=env, check=True)
    report = json.loads((WORK / f"{name}.report.json").read_text())
    if report.get("runtimeError"):
        raise SystemExit(f"Lighthouse could not audit {url}: {report['runtimeError']}")
    final_url = report.get("finalDisplayedUrl") or report.get("finalUrl")
    if final_url.rstrip("/") != url.rstrip("/"):
        raise SystemExit(f"{url} ended on {final_url}: the log-in did not hold")
    return report


def audit_all(cookies: dict) -> tuple[list[dict], dict]:
    rows, version = [], {}
    for label, path, account in PAGES:
        for preset in PRESETS:
            runs = []
            for run in range(1, RUNS + 1):
                slug = f"{path.strip('/').replace('/', '-') or 'root'}-{preset}-{run}"
                log(f"{label} ({preset}), run {run}/{RUNS}")
                report = lighthouse(
                    f"{BASE}{path}", preset=preset, cookie=cookies.get(account), name=slug
                )
                version = {
                    "lighthouse": report["lighthouseVersion"],
                    "user_agent": report["environment"]["hostUserAgent"],
                    "benchmark_index": report["environment"].get("benchmarkIndex"),
                }
                runs.append(
                    {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
                    | {"_report": report}
                )
            median = {c: int(statistics.median(r[c] for r in runs)) for c in CATEGORIES}
            # The run whose performance score is the median, for the details column.
            middle = sorted(runs, key=lambda r: r["performance"])[len(runs) // 2]["_report"]
            rows.append(
                {
                    "label": label,
                    "path": path,
                    "preset": preset,
                    "scores": median,
                    "spread": {
                        c: (min(r[c] for r in runs), max(r[c] for r in runs)) for c in CATEGORIES
                    },
                    "misses": misses(middle),
                    "metrics": metrics(middle),
                }
            )
    return rows, version


def metrics(report: dict) -> dict:
    audits = report["audits"]
    return {
        "FCP": audits["first-contentful-paint"]["displayValue"],
        "LCP": audits["largest-contentful-paint"]["displayValue"],
        "TBT": audits["total-blocking-time"]["displayValue"],
        "CLS": audits["cumulative-layout-shift"]["displayValue"],
    }


def misses(report: dict) -> list[str]:
    """Titles of the scored audits that did not pass in the categories below 100."""
    found = []
    for category in CATEGORIES:
        data = report["categories"][category]
        if data["score"] == 1:
            continue
        for ref in data["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                found.append(f"{category}: {audit['title']} (`{ref['id']}`)")
    return found


def markdown(rows: list[dict], version: dict) -> str:
    chromium = subprocess.run([CHROME, "--version"], capture_output=True, text=True).stdout
    chromium = re.search(r"[\d.]{6,}", chromium)
    lines = [
        START,
        "## Lighthouse (`make audit`)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with Lighthouse "
        f"{version['lighthouse']} and Debian's Chromium "
        f"{chromium.group(0) if chromium else '?'} (headless), median of {RUNS} runs per page "
        f"and preset; target ≥ {TARGET} in each category. The app ran as in production: "
        "`cms_project.settings.production` (DEBUG off) under gunicorn "
        "(`deploy/gunicorn.conf.py`), static files collected and served compressed by "
        "WhiteNoise, demo data (`seed_demo --force`), on 127.0.0.1 over plain HTTP "
        "(`SECURE_SSL_REDIRECT=false`; the session cookie is sent as a request header). "
        "Mobile is Lighthouse's default (emulated mid-range phone, simulated slow 4G and 4× CPU "
        "slowdown); desktop is `--preset=desktop`. "
        f"Lighthouse's CPU benchmark index on this machine: {version['benchmark_index']}.",
        "",
        "| page | preset | performance | accessibility | best practices | FCP | LCP | TBT | CLS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = []
        for category in CATEGORIES:
            score, (low, high) = row["scores"][category], row["spread"][category]
            mark = "" if score >= TARGET else " ✗"
            spread = f" ({low}–{high})" if low != high else ""
            cells.append(f"{score}{spread}{mark}")
        m = row["metrics"]
        lines.append(
            f"| {row['label']} (`{row['path']}`) | {row['preset']} | {' | '.join(cells)} | "
            f"{m['FCP']} | {m['LCP']} | {m['TBT']} | {m['CLS']} |"
        )
    failing = [r for r in rows if min(r["scores"].values()) < TARGET]
    lines.append("")
    lines.append(
        f"All pages meet the target of {TARGET}."
        if not failing
        else f"Below the target of {TARGET}: "
        + "; ".join(f"{r['label']} ({r['preset']})" for r in failing)
        + "."
    )
    missed: dict[str, list[str]] = {}
    for row in rows:
        for miss in row["misses"]:
            missed.setdefault(miss, []).append(f"{row['label']} {row['preset']}")
    if missed:
        lines += ["", "Scored audits not fully passed (in the median run of):", ""]
        lines += [f"- {miss}: {', '.join(pages)}" for miss, pages in sorted(missed.items())]
    lines += ["", NOTES.strip()]
    lines.append(END)
    return "\n".join(lines)


def write_section(section: str) -> None:
    if BENCHMARKS.exists():
        text = BENCHMARKS.read_text()
    else:
        text = "# Benchmarks\n\nFigures measured on this machine; each section says how.\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    BENCHMARKS.write_text(text)


def main() -> int:
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is not installed: run `npm ci` in tools/lighthouse")
    if not Path(CHROME).exists():
        raise SystemExit(f"{CHROME} missing: apt-get install chromium (never downloaded)")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    env = app_environment()
    log("collectstatic, migrate, seed_demo --force (production settings)")
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_demo", "--force")
    if not port_is_free():
        raise SystemExit(f"something already listens on {BASE}: stop it or set AUDIT_PORT")
    log(f"gunicorn on {BASE}")
    with open(WORK / "gunicorn.log", "wb") as gunicorn_log:
        server = subprocess.Popen(
            [GUNICORN, "-c", "deploy/gunicorn.conf.py", "cms_project.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=gunicorn_log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(server)
        check_served_as_in_production()
        cookies = {account: log_in(account) for _, _, account in PAGES if account}
        rows, version = audit_all(cookies)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    write_section(markdown(rows, version))
    log(f"scores written to {BENCHMARKS.relative_to(ROOT)}; reports in {WORK.relative_to(ROOT)}/")
    for row in rows:
        log(f"{row['label']:<16} {row['preset']:<8} {row['scores']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
