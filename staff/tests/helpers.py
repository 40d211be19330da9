"""Helpers for tests of log-in and two-factor authentication."""

import base64
import re

from django.test import Client, TestCase
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff import twofactor
from staff.models import SMSDevice, User
from staff.tests.factories import TEST_PASSWORD


def code_for(device_or_key, *, steps: int = 0) -> str:
    """The code an authenticator app shows now (or `steps` 30-second steps away)."""
    key = device_or_key.bin_key if hasattr(device_or_key, "bin_key") else device_or_key
    return f"{totp(key, drift=steps):06d}"


def key_from_secret(secret: str) -> bytes:
    """The key behind the base32 secret shown on the set-up page (as an app would read it)."""
    secret = re.sub(r"\s", "", secret).upper()
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def give_totp(user: User) -> tuple[TOTPDevice, list[str]]:
    """A confirmed authenticator app and backup codes, as after the set-up."""
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    codes = twofactor._ensure_backup_codes(user) or []
    return device, codes


def give_sms(user: User, number: str = "+12175550142") -> SMSDevice:
    device = SMSDevice.objects.create(user=user, name="Text message", number=number)
    twofactor._ensure_backup_codes(user)
    return device


def password_step(client, user: User, password: str = TEST_PASSWORD, **extra):
    return client.post(reverse("login"), {"username": user.email, "password": password}, **extra)


def code_step(client, code: str, **extra):
    return client.post(reverse("login_verify"), {"code": code}, **extra)


def logged_in_user_id(client):
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


class CommitClient(Client):
    """A test client whose requests run their on-commit callbacks (emails sent after the
    transaction commits), as a real request would; pytest-django's test transaction never
    commits."""

    def request(self, **request):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)
