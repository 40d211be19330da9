"""Browser tests of the foundation: each role's log-in and navigation, and an admin adding a
staff member who then logs in. Playwright drives Debian's Chromium against live_server."""

import re

import pytest
from playwright.sync_api import Page, expect

from cms_project.tests.browser import go_to, open_menu
from staff.models import Role, User
from staff.tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, base_url: str, email: str, password: str = TEST_PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def log_out(page: Page) -> None:
    page.locator("#account-menu").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name=re.compile("^Log in to"))).to_be_visible()


@pytest.mark.parametrize(
    ("persona", "home", "nav_label", "sees_team"),
    [
        ("admin_user", "/staff/", "Staff workspace", True),
        ("staff_user", "/staff/", "Staff workspace", False),
        ("alice_user", "/portal/", "Client portal", False),
    ],
)
def test_each_role_logs_in_and_sees_only_its_own_navigation(
    page: Page, live_server, request, persona, home, nav_label, sees_team
):
    user = request.getfixturevalue(persona)
    log_in(page, live_server.url, user.email)
    expect(page).to_have_url(f"{live_server.url}{home}")
    nav = page.get_by_role("navigation", name=nav_label)
    expect(nav).to_be_visible()
    # Admin pages sit in the "Admin" dropdown, which only admins get.
    expect(nav.get_by_role("button", name="Admin", exact=True)).to_have_count(1 if sees_team else 0)
    if sees_team:
        open_menu(page, "Admin")
        expect(nav.get_by_role("link", name="Team", exact=True)).to_be_visible()
    # A client asking for a staff page gets the branded 403 page, not the page.
    if persona == "alice_user":
        page.goto(f"{live_server.url}/staff/")
        expect(
            page.get_by_role("heading", name="You do not have access to this page")
        ).to_be_visible()
    log_out(page)


def test_admin_creates_a_staff_member_who_then_logs_in(page: Page, live_server, admin_user):
    log_in(page, live_server.url, admin_user.email)
    go_to(page, "Admin", "Team")
    page.get_by_role("link", name="Add a team member").click()

    # Bad input first: the form answers next to the fields and saves nothing.
    page.get_by_label("Email address").fill("not-an-email")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    expect(page.locator("#error_1_id_first_name")).to_have_text("This field is required.")

    page.get_by_label("First name").fill("Nora")
    page.get_by_label("Last name").fill("Field")
    page.get_by_label("Email address").fill("nora@test.example")
    page.get_by_label("Role").select_option(Role.STAFF)
    page.get_by_label("Initial password", exact=True).fill("splice-the-fiber-42")
    page.get_by_label("Initial password (again)").fill("splice-the-fiber-42")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_text("Nora Field was added and can log in now.")).to_be_visible()
    expect(page.get_by_role("cell", name="nora@test.example", exact=True)).to_be_visible()
    log_out(page)

    log_in(page, live_server.url, "nora@test.example", "splice-the-fiber-42")
    expect(page).to_have_url(f"{live_server.url}/staff/")
    expect(page.get_by_role("navigation", name="Staff workspace")).to_contain_text("Nora Field")
    assert User.objects.get(email="nora@test.example").role == Role.STAFF
