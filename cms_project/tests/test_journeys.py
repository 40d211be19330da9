"""The three users' days, end to end in Debian's Chromium (issue 9): each journey is one test
that goes through the portals as a person would, with axe-core checking every main page on the
way. Screenshots are saved on failure (pytest addopts: --screenshot=only-on-failure).
"""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from clients.models import Client
from cms_project.company.models import get_company
from cms_project.messaging.models import OutboxMessage
from cms_project.messaging.testing import smtp_server
from cms_project.tests.browser import go_to
from invoices.billing import previous_month, run_billing
from invoices.models import Invoice, Payment, Reminder
from invoices.tests.test_browser import pdf_text
from services.models import Service, Subscription
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


IMPORT_CSV = (
    "name,email,phone,consent_sms,billing_street,billing_city,billing_postal_code,"
    "location_label,location_street,location_city,location_postal_code\n"
    "Omar Haddad,omar@example.com,(217) 555-0123,yes,5 Birch Road,Springfield,62704,"
    "Home,5 Birch Road,Springfield,62704\n"
    "Lena Park,lena@example.com,217-555-0188,no,77 Elm Street,Springfield,62701,"
    "Shop,77 Elm Street,Springfield,62701\n"
)


def test_staff_day(page: Page, live_server, staff_user, axe, tmp_path):
    """A staff member imports clients from a spreadsheet, installs a router, subscribes the
    client, bills the month, sends the invoice by email and SMS, records a cash payment and,
    when the rest is late, sends a reminder from the late-payers report."""
    page.set_default_timeout(15_000)
    base = live_server.url
    ServiceFactory(name="Fiber 1 Gig", price=Decimal("89.99"), tax_rate=Decimal("8.25"))
    log_in(page, base, staff_user.email)

    # 1. Import two clients with their locations from a CSV file.
    go_to(page, "Clients", "Import")
    axe(page, context="staff: import")
    csv_file = tmp_path / "new-clients.csv"
    csv_file.write_text(IMPORT_CSV, encoding="utf-8")
    page.locator("input[type=file]").set_input_files(csv_file)
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name=re.compile("^Import 2 clients")).click()
    expect(page.get_by_role("heading", name=re.compile("^Imported"))).to_be_visible()
    omar = Client.objects.get(name="Omar Haddad")
    assert str(omar.phone) == "+12175550123" and omar.locations.get().label == "Home"

    # 2. A router at his home.
    go_to(page, "Clients", "Clients")
    page.get_by_role("searchbox", name="Search").fill("Omar Haddad")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Omar Haddad").click()
    axe(page, context="staff: client page")
    page.get_by_role("link", name="Add equipment at Home").click()
    page.get_by_label("Kind").select_option("router")
    page.get_by_label("Make and model").fill("Eero Pro 6E")
    page.get_by_label("Serial number").fill("EER-1001")
    page.get_by_role("button", name="Add equipment").click()
    expect(page.locator("article", has_text="Home")).to_contain_text("EER-1001")

    # 3. Subscribe the location, from the 1st of last month.
    year, month = previous_month()
    go_to(page, "Catalog", "Subscriptions")
    page.get_by_role("link", name="Add a service to a location").click()
    page.get_by_label("Client name, account number, street or city").fill("Omar Haddad")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Add a service at 5 Birch Road").click()
    service = Service.objects.get(name="Fiber 1 Gig")
    page.get_by_label("Service").select_option(str(service.pk))
    page.locator("#id_start_date").fill(date(year, month, 1).isoformat())
    page.get_by_role("button", name="Add the service").click()
    assert Subscription.objects.get(location__client=omar).status == "active"

    # 4. Bill last month.
    go_to(page, "Billing", "Billing runs")
    axe(page, context="staff: billing runs")
    page.get_by_role("button", name="Start billing run").click()
    expect(page.get_by_role("heading", name=re.compile("^Progress: Finished"))).to_be_visible()
    invoice = Invoice.objects.get(client=omar)
    assert invoice.total == Decimal("97.41")
    page.get_by_role("link", name=re.compile("^See the invoices of")).click()
    page.get_by_role("link", name=invoice.number, exact=True).click()
    axe(page, context="staff: invoice page")

    # 5. Send it by email (read back from a real SMTP server) and by SMS (the outbox).
    with smtp_server() as smtp:
        page.get_by_role("link", name="Send by email").click()
        page.get_by_label("Cc", exact=True).fill("books@haddad.example")
        page.get_by_role("button", name="Send", exact=True).click()
        expect(
            page.get_by_text(f"Invoice {invoice.number} was queued to omar@example.com.")
        ).to_be_visible()
        expect(page.get_by_role("region", name="Messages sent")).to_contain_text("Sent")
    received = smtp.messages[0]
    assert sorted(received.envelope_rcpt_tos) == ["books@haddad.example", "omar@example.com"]
    assert received.message["Cc"] == "books@haddad.example"
    attachment = next(received.message.iter_attachments())
    assert attachment.get_filename() == f"{invoice.number}.pdf"
    page.get_by_role("link", name="Send by SMS").click()
    sent_before = OutboxMessage.objects.filter(to="+12175550123").count()  # the run's notice
    page.get_by_role("button", name="Send SMS").click()
    expect(page.get_by_role("region", name="Messages sent")).to_contain_text("SMS")
    assert OutboxMessage.objects.filter(to="+12175550123").count() == sent_before + 1
    sms = OutboxMessage.objects.filter(to="+12175550123").latest("pk")
    assert invoice.number in sms.body and "$97.41" in sms.body

    # 6. He pays $50.00 in cash at the desk.
    page.goto(f"{base}{invoice.get_absolute_url()}")
    page.get_by_role("region", name="Payments").get_by_role("link", name="Record payment").click()
    page.get_by_label("Amount*").fill("50.00")
    page.get_by_label("Method*").select_option("cash")
    page.get_by_role("button", name="Record payment").click()
    payment = Payment.objects.get(client=omar)
    expect(page.get_by_text(f"receipt {payment.number}")).to_be_visible()
    invoice.refresh_from_db()
    assert (invoice.balance, invoice.status) == (Decimal("47.41"), "partially_paid")

    # 7. Three weeks later the rest is late: a reminder from the late-payers report.
    Invoice.objects.filter(pk=invoice.pk).update(
        issue_date=date.today() - timedelta(days=40), due_date=date.today() - timedelta(days=20)
    )
    with smtp_server() as smtp:
        go_to(page, "Billing", "Late payers")
        row = page.locator(f"tr[data-client='{omar.account_number}']")
        expect(row.locator("[data-figure=overdue]")).to_have_text("$47.41")
        axe(page, context="staff: late payers")
        row.get_by_role("button", name="Send reminder to Omar Haddad").click()
        expect(
            page.get_by_text(re.compile("Reminder about invoice .* sent to Omar Haddad"))
        ).to_be_visible()
    assert Reminder.objects.filter(invoice=invoice, step__isnull=True).count() == 1
    assert any(
        invoice.number in m.message["Subject"] + m.message.get_body(("plain",)).get_content()
        for m in smtp.messages
    )
