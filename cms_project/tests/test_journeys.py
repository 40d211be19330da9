"""The three users' days, end to end in Debian's Chromium (issue 9): each journey is one test
that goes through the portals as a person would, with axe-core checking every main page on the
way. Screenshots are saved on failure (pytest addopts: --screenshot=only-on-failure).
"""

import re

import pytest
from playwright.sync_api import Page, expect

from staff.models import AuditEntry, Role, User
from staff.tests.factories import TEST_PASSWORD
from staff.tests.helpers import code_for, give_totp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, base_url: str, email: str, password: str = TEST_PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_admin_day(page: Page, live_server, admin_user, axe):
    """An admin logs in with an authenticator app, adds a staff member, changes the reminder
    schedule and reads what happened in the audit log."""
    page.set_default_timeout(15_000)
    device, _codes = give_totp(admin_user)

    log_in(page, live_server.url, admin_user.email)
    page.get_by_label(re.compile("code", re.I)).first.fill("000000")
    page.get_by_role("button", name=re.compile("Verify|Log in|Continue")).click()
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
    page.wait_for_timeout(2_500)  # django-otp throttles a device for 2 s after a wrong code
    page.get_by_label(re.compile("code", re.I)).first.fill(code_for(device))
    page.get_by_role("button", name=re.compile("Verify|Log in|Continue")).click()
    page.wait_for_url(f"{live_server.url}/staff/")
    axe(page, context="admin: workspace home")

    # A new staff member.
    page.goto(f"{live_server.url}/staff/team/new/")
    axe(page, context="admin: team member form")
    page.get_by_label("First name").fill("Nora")
    page.get_by_label("Last name").fill("Field")
    page.get_by_label("Email address").fill("nora@test.example")
    page.get_by_label("Role").select_option(Role.STAFF)
    page.get_by_label("Initial password", exact=True).fill("splice-the-fiber-42")
    page.get_by_label("Initial password (again)").fill("splice-the-fiber-42")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_text("Nora Field was added and can log in now.")).to_be_visible()
    assert User.objects.get(email="nora@test.example").role == Role.STAFF

    # The audit log shows who did it.
    page.goto(f"{live_server.url}/staff/audit/")
    page.get_by_label("Action").fill("staff.create")
    page.get_by_role("button", name=re.compile("Filter|Apply|Search")).click()
    row = page.get_by_role("row").filter(has_text="nora@test.example")
    expect(row.first).to_be_visible()
    expect(row.first).to_contain_text(admin_user.email)
    axe(page, context="admin: audit log")
    assert AuditEntry.objects.filter(action="staff.create", actor=admin_user).count() == 1
    assert AuditEntry.objects.filter(action="auth.login", actor=admin_user).exists()
