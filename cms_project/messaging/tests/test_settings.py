"""SMS configuration from the environment: Twilio, the outbox, or a clear start-up error."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from cms_project.settings.base import (
    OUTBOX_SMS_BACKEND,
    TWILIO_SMS_BACKEND,
    sms_settings_from_env,
)

TWILIO = {
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "secret",
    "TWILIO_FROM_NUMBER": "+15005550006",
}
ROOT = Path(__file__).resolve().parents[3]


def test_without_twilio_variables_sms_go_to_the_outbox():
    assert sms_settings_from_env({})["SMS_BACKEND"] == OUTBOX_SMS_BACKEND


def test_with_all_three_twilio_variables_sms_go_through_twilio():
    result = sms_settings_from_env(TWILIO)
    assert result["SMS_BACKEND"] == TWILIO_SMS_BACKEND
    assert result["TWILIO_FROM_NUMBER"] == "+15005550006"


@pytest.mark.parametrize(
    "present", [["TWILIO_ACCOUNT_SID"], ["TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"]]
)
def test_half_configured_twilio_is_refused_naming_what_is_missing(present):
    values = {name: TWILIO[name] for name in present}
    with pytest.raises(ImproperlyConfigured, match="half-configured") as error:
        sms_settings_from_env(values)
    for name in TWILIO.keys() - set(present):
        assert name in str(error.value)


def test_an_explicit_twilio_backend_without_credentials_is_refused():
    with pytest.raises(ImproperlyConfigured, match="not set"):
        sms_settings_from_env({"SMS_BACKEND": TWILIO_SMS_BACKEND})


def test_an_explicit_backend_wins_over_the_default():
    assert sms_settings_from_env({**TWILIO, "SMS_BACKEND": OUTBOX_SMS_BACKEND})["SMS_BACKEND"] == (
        OUTBOX_SMS_BACKEND
    )


def test_a_from_number_that_is_not_e164_is_refused():
    with pytest.raises(ImproperlyConfigured, match="E.164"):
        sms_settings_from_env({**TWILIO, "TWILIO_FROM_NUMBER": "555-0006"})


def test_the_project_refuses_to_start_with_half_configured_twilio():
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "SMS_BACKEND", "DJANGO_SETTINGS_MODULE"))
    }
    env["TWILIO_ACCOUNT_SID"] = TWILIO["TWILIO_ACCOUNT_SID"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Twilio is half-configured" in result.stderr
    assert "TWILIO_AUTH_TOKEN" in result.stderr
