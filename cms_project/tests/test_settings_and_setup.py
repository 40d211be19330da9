"""Configuration from the environment, production hardening, demo data and error pages."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from staff.models import Role, User

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "cms_project.settings.production",
    "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-for-tests-only",
    "ALLOWED_HOSTS": "cms.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_pass_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_real_secret_key():
    result = manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set to a random value" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TIME_ZONE", "Mars/Olympus", "is not a known IANA time zone"),
        ("CURRENCY", "dollars", "ISO 4217"),
        ("DEFAULT_TAX_RATE", "eight", "percentage"),
        ("DEBUG", "maybe", "DEBUG has an invalid value"),
        ("CONN_MAX_AGE", "forever", "CONN_MAX_AGE has an invalid value"),
        ("ADMIN_URL", "admin", "ADMIN_URL must be a path segment"),
    ],
)
def test_a_bad_environment_value_stops_start_up_naming_the_variable(variable, value, message):
    result = manage(
        "check", env={"DJANGO_SETTINGS_MODULE": "cms_project.settings.local", variable: value}
    )
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_seed_demo_creates_the_four_demo_logins_and_running_it_again_changes_nothing(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "demo-pass-2026" in out and "for the demo only" in out
    accounts = {u.email: u.role for u in User.objects.all()}
    assert accounts == {
        "admin@dataplusfiber.example": Role.ADMIN,
        "staff@dataplusfiber.example": Role.STAFF,
        "client@dataplusfiber.example": Role.CLIENT,
        "client2@dataplusfiber.example": Role.CLIENT,
    }
    assert all(u.check_password("demo-pass-2026") for u in User.objects.all())
    before = list(User.objects.order_by("pk").values())
    call_command("seed_demo")
    assert list(User.objects.order_by("pk").values()) == before


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_seed_demo_refuses_to_run_with_debug_off_unless_forced():
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")
    assert not User.objects.exists()
    call_command("seed_demo", "--force")
    assert User.objects.count() == 4


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_unknown_pages_get_the_branded_404(login, staff_user):
    response = login(staff_user).get("/no-such-page/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()
    assert "Staff workspace" in response.content.decode()  # the user's own navigation


def test_the_500_page_renders_without_any_context():
    from cms_project.dashboard.views import server_error

    response = server_error(None)
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


@pytest.mark.django_db
def test_health_endpoint_answers_ok(client):
    assert client.get(reverse("health")).json() == {"status": "ok"}
