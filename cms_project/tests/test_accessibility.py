"""Accessibility of every main page, as each role sees it: axe-core finds no serious or critical
violation, and nothing makes the page wider than a 390 px phone screen.

To cover a new page, add a Screen to SCREENS: its URL name (or a literal path), the roles that
open it, and, when the URL has arguments, a function of the test's objects giving them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Page, expect

from cms_project.messaging.sending import queue_email, queue_sms
from staff.tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANONYMOUS, CLIENT, STAFF, ADMIN = "anonymous", "client", "staff", "admin"
WORKSPACE = (STAFF, ADMIN)
EVERYONE_LOGGED_IN = (CLIENT, STAFF, ADMIN)


@dataclass(frozen=True)
class Screen:
    """One page to check. `url` is a URL name (reversed with `args(objects)`) or a path."""

    label: str
    url: str
    roles: tuple[str, ...]
    args: Callable[[dict], dict] | None = None
    status: int = 200
    # Something to do on the page before checking it (e.g. submit a form to see its errors).
    then: Callable[[Page], None] | None = field(default=None, compare=False)


def submit_empty(button: str) -> Callable[[Page], None]:
    def _submit(page: Page) -> None:
        page.get_by_role("button", name=button, exact=True).click()
        expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()

    return _submit


def _email_change_token(objects: dict) -> str:
    from staff.account_changes import email_change_token

    return email_change_token(user=objects["alice"], new_email="alice.new@test.example")


def _reset_link_args(objects: dict) -> dict:
    user = objects["alice"]
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }


SCREENS: list[Screen] = [
    # Anonymous: log-in and password reset.
    Screen("log-in", "login", (ANONYMOUS,)),
    Screen("log-in with errors", "login", (ANONYMOUS,), then=submit_empty("Log in")),
    Screen("password reset", "password_reset", (ANONYMOUS,)),
    Screen("password reset sent", "password_reset_done", (ANONYMOUS,)),
    Screen("set a new password", "password_reset_confirm", (ANONYMOUS,), args=_reset_link_args),
    Screen("password reset done", "password_reset_complete", (ANONYMOUS,)),
    Screen(
        "confirm a new email address",
        "accounts:email_confirm",
        (ANONYMOUS,),
        args=lambda o: {"token": _email_change_token(o)},
    ),
    # Staff workspace.
    Screen("workspace dashboard", "workspace_home", WORKSPACE),
    Screen("delivery log", "messaging:delivery_list", WORKSPACE),
    Screen(
        "delivery detail",
        "messaging:delivery_detail",
        WORKSPACE,
        args=lambda o: {"pk": o["delivery"].pk},
    ),
    # Sales pipeline and reports.
    Screen("pipeline board", "clients:pipeline", WORKSPACE),
    Screen("opportunity list", "clients:opportunity_list", (STAFF,)),
    Screen(
        "opportunity form with errors",
        "clients:opportunity_create",
        (STAFF,),
        then=submit_empty("Add opportunity"),
    ),
    Screen("reports", "reports:index", (STAFF,)),
    *(
        Screen(f"report {name}", "reports:report", (STAFF,), args=lambda o, n=name: {"name": n})
        for name in ("accounts", "revenue", "subscriptions", "customer-summary")
    ),
    # Admin sections.
    Screen("team list", "staff:team_list", (ADMIN,)),
    Screen("team member form", "staff:team_create", (ADMIN,)),
    Screen(
        "team member form with errors",
        "staff:team_create",
        (ADMIN,),
        then=submit_empty("Add member"),
    ),
    Screen("team member edit", "staff:team_edit", (ADMIN,), args=lambda o: {"pk": o["staff"].pk}),
    Screen("company settings", "company:settings", (ADMIN,)),
    Screen("SMS outbox", "messaging:outbox", (ADMIN,)),
    Screen("audit log", "staff:audit_list", (ADMIN,)),
    # Client portal.
    Screen("portal home", "portal_home", (CLIENT,)),
    # Every logged-in user.
    Screen("profile", "accounts:profile", EVERYONE_LOGGED_IN),
    Screen("password change", "password_change", EVERYONE_LOGGED_IN),
    Screen("password changed", "password_change_done", EVERYONE_LOGGED_IN),
    # Error pages, in each role's layout.
    Screen("403 page", "staff:team_list", (CLIENT, STAFF), status=403),
    Screen("404 page", "/no-such-page/", (ANONYMOUS, *EVERYONE_LOGGED_IN), status=404),
]

PERSONAS = {CLIENT: "alice_user", STAFF: "staff_user", ADMIN: "admin_user"}


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(f"{base_url}/accounts/login/")


def _url(screen: Screen, objects: dict) -> str:
    if screen.url.startswith("/"):
        return screen.url
    return reverse(screen.url, kwargs=screen.args(objects) if screen.args else None)


BROKEN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Broken</title></head>
<body><main><h1>Broken</h1><img src="/static/img/favicon.svg">
<div style="width: 800px">wider than a phone</div></main></body></html>"""


def test_the_check_fails_on_a_serious_violation_and_on_overflow(page: Page, live_server, axe):
    page.route(
        "**/__broken__/",
        lambda route: route.fulfill(body=BROKEN_PAGE, content_type="text/html; charset=utf-8"),
    )
    page.goto(f"{live_server.url}/__broken__/")
    with pytest.raises(AssertionError, match=r"\[critical\] image-alt: Images must have"):
        axe(page, context="self-test")
    page.evaluate("() => document.querySelector('img').setAttribute('alt', 'Logo')")
    with pytest.raises(AssertionError, match=r"px wide at a 390px viewport; sticking out: div"):
        axe(page, context="self-test")


def test_every_role_and_layout_is_listed():
    roles = {role for screen in SCREENS for role in screen.roles}
    assert roles == {ANONYMOUS, CLIENT, STAFF, ADMIN}


@pytest.mark.parametrize("role", [ANONYMOUS, CLIENT, STAFF, ADMIN])
def test_main_pages_have_no_serious_accessibility_violations(
    page: Page, live_server, request, axe, role
):
    objects = {
        "alice": request.getfixturevalue("alice_user"),
        "staff": request.getfixturevalue("staff_user"),
        "admin": request.getfixturevalue("admin_user"),
    }
    # Something in the delivery log and the SMS outbox, so their tables are not empty.
    objects["delivery"] = queue_email(
        to=["alice@test.example"],
        subject="Your invoice INV-2026-000001",
        body="Hello Alice,\n\nYour invoice is attached.\n",
        purpose="invoice",
    )
    queue_sms(to="+12025550143", body="Data Plus Fiber: your invoice is ready.", purpose="test")
    if role != ANONYMOUS:
        log_in(page, live_server.url, request.getfixturevalue(PERSONAS[role]).email)

    failures = []
    for screen in [s for s in SCREENS if role in s.roles]:
        url = _url(screen, objects)
        response = page.goto(f"{live_server.url}{url}")
        assert response is not None and response.status == screen.status, (
            f"{role}: {screen.label} ({url}) answered {response and response.status}"
        )
        if screen.then:
            screen.then(page)
        try:
            axe(page, context=f"{role}: {screen.label}")
        except AssertionError as exc:  # check every page, then report them all
            failures.append(str(exc))
    if failures:
        raise AssertionError("\n\n".join(failures))
