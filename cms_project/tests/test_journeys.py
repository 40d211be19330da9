"""The three users' days, end to end in Debian's Chromium (issue 9): each journey is one test
that goes through the portals as a person would, with axe-core checking every main page on the
way. Screenshots are saved on failure (pytest addopts: --screenshot=only-on-failure).
"""

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from clients.models import Client
from cms_project.company.models import get_company
from cms_project.messaging.testing import smtp_server
from invoices.billing import previous_month, run_billing
from invoices.models import Invoice, Payment
from invoices.tests.test_browser import pdf_text
from services.models import Subscription
from services.subscriptions import activate_subscription
from services.tests.factories import ServiceFactory
from staff.models import AuditEntry, Role, User
from staff.tests.factories import TEST_PASSWORD
from staff.tests.helpers import code_for, give_totp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "fiber-to-my-door-2026"


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

    # The reminder schedule: garbage first, then 5 days before, on the day, 10 and 30 after.
    page.goto(f"{live_server.url}/staff/settings/")
    axe(page, context="admin: company settings")
    schedule = page.locator("#id_reminder_schedule")
    schedule.fill("soon, 0, 0")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#id_reminder_schedule").locator("xpath=..")).to_contain_text(
        "whole numbers of days"
    )
    assert get_company().reminder_schedule != [-5, 0, 10, 30]
    page.locator("#id_reminder_schedule").fill("30, -5, 0, 10")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".alert-success, .alert").first).to_be_visible()
    assert get_company().reminder_schedule == [-5, 0, 10, 30]

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
    assert AuditEntry.objects.filter(action="company.settings_change", actor=admin_user).exists()


def test_client_day(page: Page, live_server, axe):
    """A new client signs up, confirms the email, adds the address and subscribes; once the
    month is billed, pays part of the invoice online (sandbox card), downloads the PDF and
    reads the statement."""
    page.set_default_timeout(15_000)
    base = live_server.url
    ServiceFactory(name="Fiber 1 Gig", price=Decimal("89.99"), tax_rate=Decimal("8.25"))
    with smtp_server() as smtp:
        page.goto(f"{base}/accounts/login/")
        page.get_by_role("link", name="Create an account").click()
        axe(page, context="anonymous: sign-up")
        page.get_by_label("Email address").fill("rosa.diaz@example.com")
        page.get_by_label("First name").fill("Rosa")
        page.get_by_label("Last name").fill("Díaz")
        page.locator("#id_password1").fill(PASSWORD)
        page.get_by_label("Password (again)").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        page.get_by_role("heading", name="Check your email").wait_for()
        body = smtp.messages[0].message.get_body(("plain",)).get_content()
    assert smtp.messages[0].envelope_rcpt_tos == ["rosa.diaz@example.com"]
    page.goto(re.search(r"https?://\S+/signup/verify/\S+/", body).group(0))
    page.get_by_role("button", name="Confirm and create my account").click()
    page.get_by_text("Your email address is confirmed").wait_for()
    log_in(page, base, "rosa.diaz@example.com", PASSWORD)
    page.wait_for_url(f"{base}/portal/")
    axe(page, context="client: portal home")

    # Her address, then a service there.
    portal = page.get_by_role("navigation", name="Client portal")
    portal.get_by_role("link", name=re.compile("Account")).first.click()
    page.get_by_role("link", name="Add a service location").click()
    axe(page, context="client: add a location")
    page.get_by_label("Label").fill("Home")
    page.get_by_label("Street").fill("14 Cedar Lane")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("Postal code").fill("62704")
    page.get_by_role("button", name="Add location").click()
    expect(page.get_by_text("Location “Home” was added.", exact=False)).to_be_visible()

    portal.get_by_role("link", name="Services", exact=True).click()
    page.get_by_role("link", name="Add a service").click()
    page.get_by_role("link", name="Subscribe to Fiber 1 Gig").click()
    page.get_by_role("link", name="Choose Home").click()
    axe(page, context="client: subscribe")
    page.get_by_role("button", name="Confirm the subscription").click()
    expect(page.get_by_role("heading", name="My services")).to_be_visible()
    client = Client.objects.get(user__email="rosa.diaz@example.com")
    subscription = Subscription.objects.get(location__client=client)

    # Our team connects her from the 1st of last month and bills that month.
    year, month = previous_month()
    activate_subscription(subscription=subscription, start_date=date(year, month, 1))
    run_billing(year=year, month=month, notify=False)
    invoice = Invoice.objects.get(client=client)
    assert invoice.total == Decimal("97.41")  # 89.99 + 8.25 % tax

    # She pays part of it online with the sandbox's test card.
    portal.get_by_role("link", name="Invoices").click()
    axe(page, context="client: invoices")
    page.get_by_role("link", name=f"Pay {invoice.number}").click()
    page.get_by_label(f"Amount to pay on {invoice.number}").fill("40.00")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("heading", name=re.compile("TEST MODE"))).to_be_visible()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/29")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name=re.compile("^Pay")).click()
    expect(page.get_by_role("heading", name="Thank you — payment received")).to_be_visible()
    expect(page.locator("#new-balance")).to_have_text("$57.41")
    payment = Payment.objects.get(client=client)
    assert (payment.amount, payment.card_last4, payment.method) == (
        Decimal("40.00"),
        "4242",
        "card_online",
    )

    # The invoice PDF, then the statement.
    portal.get_by_role("link", name="Invoices").click()
    page.get_by_role("link", name=invoice.number, exact=True).click()
    expect(page.locator("[data-figure=balance]").first).to_have_text("$57.41")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    text = pdf_text(download_info.value.path())
    assert invoice.number in text and "Fiber 1 Gig" in text and "$97.41" in text
    portal.get_by_role("link", name="Statement").click()
    expect(page.locator("#statement-balance")).to_have_text("$57.41")
    statement = page.locator("main")
    expect(statement).to_contain_text(invoice.number)
    expect(statement).to_contain_text(payment.number)
    axe(page, context="client: statement")
