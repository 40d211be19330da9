"""The staff workspace menu: grouped dropdowns, links only to pages that exist, the active page
marked with aria-current, admin pages only for admins."""

import re

import pytest
from django.template import Context, Template
from django.urls import reverse

from cms_project.navigation import Group, Item, build_menu, url_if_exists

pytestmark = pytest.mark.django_db


def _menu_html(login, user, url_name: str) -> str:
    response = login(user).get(reverse(url_name))
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index('aria-label="Staff workspace"') : html.index('id="account-menu"')]


def test_a_link_to_a_page_that_does_not_exist_yet_is_left_out():
    menu = (
        Group("Billing", (Item("invoices:list", "Invoices"), Item("invoices:nowhere", "Soon"))),
        Group("Empty", (Item("nowhere:at_all", "Nothing"),)),
        Item("reports:not_landed", "Reports"),
    )
    built = build_menu(view_name="invoices:list", is_admin=False, menu=menu)
    assert [entry["label"] for entry in built] == ["Billing"]
    assert [link["label"] for link in built[0]["links"]] == ["Invoices"]
    assert url_if_exists("invoices:nowhere") == ""
    assert url_if_exists("invoices:detail", 7) == "/staff/invoices/7/"


def test_the_url_if_exists_tag_renders_nothing_for_a_missing_page():
    template = Template(
        '{% load navigation %}{% url_if_exists "invoices:nowhere" as u %}[{{ u }}]'
        '{% url_if_exists "invoices:list" as v %}[{{ v }}]'
    )
    assert template.render(Context()) == "[][/staff/invoices/]"


def test_the_longest_matching_prefix_marks_the_active_page():
    built = build_menu(view_name="invoices:billing_run", is_admin=True)
    billing = next(entry for entry in built if entry["label"] == "Billing")
    assert billing["active"]
    assert [link["label"] for link in billing["links"] if link["active"]] == ["Billing runs"]
    clients = next(entry for entry in built if entry["label"] == "Clients")
    assert not clients["active"]


@pytest.mark.parametrize(
    ("url_name", "current"),
    [
        ("workspace_home", "Dashboard"),
        ("clients:client_list", "Clients"),
        ("clients:task_list", "My tasks"),
        ("services:catalog", "Services"),
        ("services:subscription_list", "Subscriptions"),
        ("invoices:list", "Invoices"),
        ("invoices:billing", "Billing runs"),
        ("staff:audit_list", "Audit log"),
    ],
)
def test_the_current_page_carries_aria_current(login, admin_user, url_name, current):
    html = _menu_html(login, admin_user, url_name)
    assert re.findall(r'aria-current="page">([^<]+)<', html) == [current]


def test_staff_see_the_groups_but_not_the_admin_menu(login, staff_user, admin_user):
    staff_html = _menu_html(login, staff_user, "workspace_home")
    for group in ("Clients", "Catalog", "Billing"):
        assert f'data-bs-toggle="dropdown" aria-expanded="false">{group}</button>' in staff_html
    assert ">Admin</button>" not in staff_html
    assert reverse("staff:team_list") not in staff_html
    admin_html = _menu_html(login, admin_user, "workspace_home")
    assert ">Admin</button>" in admin_html
    for name in ("staff:team_list", "company:settings", "staff:audit_list", "staff:security_admin"):
        assert f'href="{reverse(name)}"' in admin_html


def test_the_menu_collapses_behind_a_button_on_small_screens(login, staff_user):
    html = _menu_html(login, staff_user, "workspace_home")
    assert 'class="navbar-toggler"' in html
    assert 'aria-controls="workspace-nav"' in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_dropdowns_work_from_the_keyboard_and_stay_accessible(
    page, live_server, admin_user, axe
):
    from playwright.sync_api import expect

    from cms_project.tests.test_browser_foundation import log_in

    log_in(page, live_server.url, admin_user.email)
    nav = page.get_by_role("navigation", name="Staff workspace")
    billing = nav.get_by_role("button", name="Billing", exact=True)
    billing.focus()
    page.keyboard.press("Enter")
    expect(billing).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(nav.get_by_role("link", name="Invoices", exact=True)).to_be_focused()
    page.screenshot(path="/tmp/reports-nav-open.png")
    axe(page, context="admin: Billing menu open", phone=False)
    page.keyboard.press("Escape")
    expect(billing).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/staff/invoices/")
    expect(nav.get_by_role("button", name="Billing", exact=True)).to_have_class(
        re.compile("active")
    )

    # Phone width: the menu hides behind the toggler, which opens it.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(nav.get_by_role("button", name="Clients", exact=True)).to_be_hidden()
    nav.get_by_role("button", name="Toggle navigation").click()
    nav.get_by_role("button", name="Admin", exact=True).click()
    expect(nav.get_by_role("link", name="Audit log", exact=True)).to_be_visible()
    page.screenshot(path="/tmp/reports-nav-phone.png", full_page=True)
