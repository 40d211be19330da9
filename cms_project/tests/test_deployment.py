"""What a deployment relies on: static files collect with the production storage, the gunicorn
configuration reads its environment, and the deploy/ examples point at files that exist."""

import re
import runpy
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
# Production uses WhiteNoise's CompressedManifestStaticFilesStorage: Django's manifest storage
# plus Brotli/gzip copies. The manifest part is what can fail; compressing everything takes
# ~20 s, so the test runs the manifest storage alone (`make audit` runs the real one).
MANIFEST_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}


def test_collectstatic_works_with_the_production_manifest_storage(tmp_path):
    # The manifest storage follows every url()/sourceMappingURL reference in CSS and JS and
    # fails on a missing one (a vendored .min.js without its .map once broke every deployment).
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=MANIFEST_STORAGES):
        call_command("collectstatic", "--noinput", verbosity=0)
    assert (tmp_path / "staticfiles.json").exists()
    hashed = list((tmp_path / "vendor/bootstrap-5.3.9").glob("bootstrap.min.*.css"))
    assert len(hashed) == 1 and re.search(r"\.[0-9a-f]{12}\.css$", hashed[0].name)


def gunicorn_config(monkeypatch, **env) -> dict:
    for name in ("GUNICORN_BIND", "WEB_CONCURRENCY", "GUNICORN_CONTROL_SOCKET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "deploy/gunicorn.conf.py"))


def test_gunicorn_config_defaults_to_loopback_and_two_workers_per_core_plus_one(monkeypatch):
    import multiprocessing

    config = gunicorn_config(monkeypatch)
    assert config["bind"] == "127.0.0.1:8000"
    assert config["workers"] == 2 * multiprocessing.cpu_count() + 1
    assert config["timeout"] == 30
    assert config["accesslog"] == "-"
    # Two instances on one machine must not share gunicorn's default control socket.
    assert config["control_socket_disable"] is True


def test_gunicorn_config_reads_the_environment(monkeypatch):
    config = gunicorn_config(
        monkeypatch,
        GUNICORN_BIND="10.0.0.5:8001",
        WEB_CONCURRENCY="3",
        GUNICORN_CONTROL_SOCKET="/run/fibercms/gunicorn.ctl",
    )
    assert (config["bind"], config["workers"]) == ("10.0.0.5:8001", 3)
    assert config["control_socket"] == "/run/fibercms/gunicorn.ctl"


def test_gunicorn_config_refuses_a_non_numeric_worker_count(monkeypatch):
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be a whole number"):
        gunicorn_config(monkeypatch, WEB_CONCURRENCY="many")


def test_the_health_check_answers_over_plain_http_while_pages_redirect_to_https():
    from cms_project.tests.test_settings_and_setup import PRODUCTION_ENV, manage

    probe = (
        "from django.test import Client; c = Client(HTTP_HOST='cms.example.com'); "
        "print(c.get('/healthz').status_code, c.get('/accounts/login/').status_code)"
    )
    result = manage("shell", "-c", probe, env=PRODUCTION_ENV)
    assert result.stdout.split()[-2:] == ["200", "301"], result.stdout + result.stderr
