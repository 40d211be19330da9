"""A staff member's main journey in a real browser (Debian's Chromium through Playwright)."""

import pytest
from playwright.sync_api import Page, expect

from clients.models import Client
from cms_project.tests.browser import go_to
from staff.tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _add_location(page: Page, label: str, street: str) -> None:
    page.get_by_role("link", name="Add location").first.click()
    page.get_by_label("Label").fill(label)
    page.get_by_label("Street").fill(street)
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("Postal code").fill("62704")
    page.get_by_role("button", name="Add location").click()
    expect(page.get_by_text(f"Location “{label}” was added.")).to_be_visible()


def test_staff_creates_a_client_with_two_locations_and_a_router_then_finds_it_by_serial(
    page: Page, live_server, staff_user
):
    base = live_server.url
    _log_in(page, base, staff_user.email)

    go_to(page, "Clients", "Clients")
    page.get_by_role("link", name="Add a client").first.click()
    page.get_by_label("Contact name").fill("Nadia Rahman")
    page.get_by_label("Email", exact=True).fill("nadia@example.com")
    page.get_by_label("Phone", exact=True).fill("217-555-0177")
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_role("heading", name="Nadia Rahman")).to_be_visible()

    _add_location(page, "Home", "8 Willow Court")
    _add_location(page, "Studio", "300 Adams Street")

    studio = page.locator("article", has_text="Studio")
    studio.get_by_role("link", name="Add equipment").click()
    page.get_by_label("Kind").select_option("router")
    page.get_by_label("Make and model").fill("Eero Pro 6E")
    page.get_by_label("Serial number").fill("eer-77a1b2")
    page.get_by_label("MAC address").fill("3c:84:6a:77:a1:b2")
    page.get_by_role("button", name="Add equipment").click()
    expect(page.locator("article", has_text="Studio")).to_contain_text("EER-77A1B2")
    expect(page.locator("article", has_text="Studio")).to_contain_text("3C:84:6A:77:A1:B2")

    page.get_by_role("link", name="Log interaction").first.click()
    page.get_by_label("Kind").select_option("site_visit")
    page.get_by_label("Subject").fill("Router installed at the studio")
    page.get_by_label("Outcome").fill("Speed test 940 Mbps")
    page.get_by_role("button", name="Log interaction").click()
    expect(page.locator("#timeline")).to_contain_text("Router installed at the studio")

    go_to(page, "Clients", "Clients")
    page.get_by_role("searchbox", name="Search").fill("EER-77A1B2")
    page.get_by_role("button", name="Find").click()
    results = page.get_by_role("table")
    expect(results).to_contain_text("Nadia Rahman")
    expect(results.locator("tbody tr")).to_have_count(1)
    results.get_by_role("link", name="Nadia Rahman").click()
    expect(page.locator("[data-account-number]")).to_have_text(
        Client.objects.get(name="Nadia Rahman").account_number
    )
    assert Client.objects.get().locations.count() == 2
