"""In a real browser: a new client signs up, confirms the email (the link read from a real SMTP
server on loopback), turns on an authenticator app, logs out, and logs in again with a code."""

import email
import email.policy
import re
import socket

import pytest

from staff.models import AuditEntry, User
from staff.tests.helpers import code_for, key_from_secret

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "fiber-to-my-door-2026"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on loopback; the site sends its email there."""
    from aiosmtpd.controller import Controller

    class Collector:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(
                email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            )
            return "250 Message accepted for delivery"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    yield collector
    controller.stop()


def test_a_new_client_signs_up_and_logs_in_with_two_factors(live_server, page, smtp_server):
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Create an account").click()

    page.get_by_label("Email address").fill("rosa.diaz@example.com")
    page.get_by_label("First name").fill("Rosa")
    page.get_by_label("Last name").fill("Díaz")
    page.get_by_label("Phone (optional)").fill("(217) 555-0190")
    page.locator("#id_password1").fill(PASSWORD)  # (its label also matches "Password (again)")
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    assert not User.objects.filter(email="rosa.diaz@example.com").exists()

    # The link from the email, as the SMTP server received it.
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "rosa.diaz@example.com"
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/signup/verify/\S+/", body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm and create my account").click()
    page.get_by_text("Your email address is confirmed").wait_for()

    # First log-in: the password is enough.
    page.get_by_label("Email").fill("rosa.diaz@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/portal/")

    # Turn on the authenticator app from the account menu.
    page.get_by_role("button", name="Rosa Díaz").click()
    page.get_by_role("link", name="Security").click()
    page.get_by_role("link", name="Set up an authenticator app").click()
    assert page.locator("img.qr-code").get_attribute("src").startswith("data:image/svg+xml")
    page.get_by_text("Cannot scan? Type this key instead").click()
    key = key_from_secret(page.locator("[data-totp-secret]").inner_text())
    page.get_by_label("Code").fill(code_for(key))
    page.get_by_role("button", name="Turn on").click()
    page.get_by_role("heading", name="Save your backup codes").wait_for()
    assert page.locator("[data-backup-codes] li").count() == 10
    page.get_by_role("link", name="I have saved them").click()
    assert page.locator('[data-2fa="on"]').is_visible()

    # Log out, then back in: password, then a code.
    page.get_by_role("button", name="Rosa Díaz").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("rosa.diaz@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Enter your security code").wait_for()
    # The code used to turn the app on is spent: the app's next code (one step ahead) works.
    page.get_by_label("Code").fill(code_for(key, steps=1))
    page.get_by_role("button", name="Verify and log in").click()
    page.wait_for_url(f"{live_server.url}/portal/")

    user = User.objects.get(email="rosa.diaz@example.com")
    assert user.client_account.status == "prospect"
    logins = AuditEntry.objects.filter(action="auth.login", actor=user).order_by("pk")
    assert [e.note for e in logins] == ["password", "password + authenticator app"]
