"""Hardening: production settings, CSP, CSRF on every POST, GETs that change nothing, no
inline scripts, safe PDF resource loading, no secrets in the repository."""

import json
import os
import re
import secrets
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import reverse

from cms_project.pdf import UnsafeURL, safe_url_fetcher
from cms_project.tests.test_permissions import SAMPLE_ARGS, all_views

pytestmark = pytest.mark.django_db

BASE = Path(settings.BASE_DIR)
ROLES = ["anonymous", "client", "staff", "admin"]


def _production_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="cms_project.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="cms.example.com",
        DATABASE_URL="sqlite:////tmp/fibercms-deploy-check.sqlite3",
        EMAIL_URL="smtp+tls://mailer:secret@smtp.example.com:587",
    )
    env.update(extra)
    return env


# --- Production settings -------------------------------------------------------------------
def test_production_settings_pass_check_deploy():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_real_secret_key():
    env = _production_env(SECRET_KEY="django-insecure-short")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=BASE, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_cookies_are_secure_and_hsts_is_on():
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k, None) for k in ["
        "'SESSION_COOKIE_SECURE','SESSION_COOKIE_HTTPONLY','CSRF_COOKIE_SECURE',"
        "'CSRF_COOKIE_HTTPONLY','SECURE_HSTS_SECONDS','SECURE_HSTS_INCLUDE_SUBDOMAINS',"
        "'SECURE_SSL_REDIRECT','SECURE_PROXY_SSL_HEADER','SESSION_COOKIE_AGE','DEBUG']}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE,
        env=_production_env(SECURE_PROXY_SSL_HEADER="true"),
        capture_output=True,
        text=True,
    )
    values = json.loads(result.stdout)
    assert values["SESSION_COOKIE_SECURE"] and values["SESSION_COOKIE_HTTPONLY"]
    assert values["CSRF_COOKIE_SECURE"] and values["CSRF_COOKIE_HTTPONLY"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and values["SECURE_SSL_REDIRECT"]
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SESSION_COOKIE_AGE"] == 12 * 60 * 60
    assert values["DEBUG"] is False


# --- Content-Security-Policy ---------------------------------------------------------------
def test_pages_send_a_csp_without_inline_scripts(client):
    csp = client.get(reverse("login"))["Content-Security-Policy"]
    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip()
    )
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


@pytest.fixture
def personas(admin_user, staff_user, alice_user):
    return {"admin": admin_user, "staff": staff_user, "client": alice_user}


def _client_as(role, personas) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(personas[role])
    return client


def _reachable_pages(client, personas):
    for name, route, _ in all_views():
        url = reverse(name, kwargs=SAMPLE_ARGS[name](personas)) if "<" in route else reverse(name)
        response = client.get(url)
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            yield url, response.content.decode()


INLINE = [
    # A JSON data block (Django's json_script, e.g. the dashboard's chart data) is never run by
    # the browser, so the CSP does not apply to it; anything else without src= is a script.
    (
        re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
        "inline <script>",
    ),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style[\s>]", re.I), "<style> element"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event-handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


@pytest.mark.parametrize("role", ROLES)
def test_no_page_has_inline_scripts_or_styles(personas, role):
    problems = []
    for url, html in _reachable_pages(_client_as(role, personas), personas):
        for pattern, what in INLINE:
            if pattern.search(html):
                problems.append(f"{role} {url}: {what}")
    assert problems == []


# --- CSRF: every POST needs the token ------------------------------------------------------
# Views deliberately without CSRF (provider webhooks that check a signature instead) are listed
# here by URL name, with the reason. Nothing else may skip it.
CSRF_EXEMPT_ALLOWED: dict[str, str] = {
    # Twilio cannot send a CSRF token; the view checks X-Twilio-Signature instead (403 without).
    "messaging:twilio_inbound": "authenticated by the Twilio request signature",
    # Stripe cannot either; the view checks the Stripe-Signature header instead (400 without).
    "invoices:stripe_webhook": "authenticated by the Stripe webhook signature",
}


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_every_post_without_a_csrf_token_is_refused(personas, role):
    client = Client(enforce_csrf_checks=True)
    if role != "anonymous":
        client.force_login(personas[role])
    accepted = []
    for name, route, _ in all_views():
        if name in CSRF_EXEMPT_ALLOWED:
            continue
        url = reverse(name, kwargs=SAMPLE_ARGS[name](personas)) if "<" in route else reverse(name)
        response = client.post(url, {"anything": "x"})
        if response.status_code != 403 or b"CSRF" not in response.content:
            accepted.append(f"{url} -> {response.status_code}")
    assert accepted == []


# --- GET changes nothing -------------------------------------------------------------------
# Tables a GET may write to, with the reason. Add one only for a write that is not a state
# change the user asked for (the session itself is saved on every request).
IGNORED_ON_GET = {
    "staff.usersession",
    "sessions.session",
    # Created once, on first use, from the environment defaults (cms_project.company).
    "company.companysettings",
}


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label_lower: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.label_lower not in IGNORED_ON_GET and model._meta.managed
    }


@pytest.mark.parametrize("role", ROLES)
def test_get_requests_change_nothing(personas, role):
    client = _client_as(role, personas)
    # Sample objects are made first: building them is not what is being measured.
    urls = [
        reverse(name, kwargs=SAMPLE_ARGS[name](personas)) if "<" in route else reverse(name)
        for name, route, _ in all_views()
    ]
    before = _row_counts()
    for url in urls:
        client.get(url)
    after = _row_counts()
    assert {k: (before[k], after[k]) for k in before if before[k] != after[k]} == {}


# --- WeasyPrint fetches only our own static files ------------------------------------------
STATIC_CSS = BASE / "static" / "css" / "app.css"


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://evil.example/logo.png",
        "http://127.0.0.1:8000/staff/",
        "file:///etc/passwd",
        f"file://{BASE / 'manage.py'}",
        f"file://{STATIC_CSS.parent}/../../manage.py",
        "file://remote-host/share/x.css",
        "ftp://example.com/x.css",
        "https://cms.example.com/static/../../manage.py",
        "https://cms.example.com/static/css/missing.css",
    ],
)
def test_the_pdf_fetcher_refuses_anything_but_our_static_files(url):
    with pytest.raises((UnsafeURL, ValueError)):
        safe_url_fetcher(url)


@pytest.mark.parametrize(
    "url",
    [
        f"file://{STATIC_CSS}",
        "https://cms.example.com/static/css/app.css",
        "http://anything.example/static/css/app.css",
    ],
)
def test_the_pdf_fetcher_serves_our_static_files_from_disk(url):
    response = safe_url_fetcher(url)
    assert response.read() == STATIC_CSS.read_bytes()
    assert response.content_type == "text/css"


def test_the_pdf_fetcher_serves_data_urls():
    response = safe_url_fetcher("data:text/plain;base64,aGVsbG8=")
    assert response.read() == b"hello"


def test_a_rendered_pdf_never_calls_the_network():
    from weasyprint import HTML

    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    html = f"""<html><head>
      <link rel="stylesheet" href="http://127.0.0.1:{port}/evil.css">
      <link rel="stylesheet" href="/static/css/app.css"></head>
      <body><p>Name: <img src="http://127.0.0.1:{port}/track.png"></p>
      <img src="file:///etc/hostname"></body></html>"""
    try:
        pdf = HTML(
            string=html, base_url="https://cms.example.com/", url_fetcher=safe_url_fetcher
        ).write_pdf()
    finally:
        server.shutdown()
    assert pdf.startswith(b"%PDF")
    assert hits == []


# --- Secrets -------------------------------------------------------------------------------
SECRET_PATTERNS = [
    re.compile(r"sk_live_[0-9A-Za-z]{10,}"),
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"-----BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY-----"),
    re.compile(r"xox[baprs]-[0-9A-Za-z-]{10,}"),
]


def test_no_secrets_are_committed():
    files = subprocess.run(
        ["git", "ls-files"], cwd=BASE, capture_output=True, text=True
    ).stdout.split()
    found = []
    for name in files:
        if "/tests/" in f"/{name}":
            continue  # made-up credentials for tests are expected there
        path = BASE / name
        if path.suffix in {".png", ".jpg", ".woff", ".woff2", ".ico", ".pdf"} or not path.is_file():
            continue
        text = path.read_text(errors="ignore")
        found += [f"{name}: {p.pattern}" for p in SECRET_PATTERNS if p.search(text)]
    assert found == []
    assert not (BASE / ".env").exists() or ".env" in (BASE / ".gitignore").read_text()
