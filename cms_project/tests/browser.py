"""Helpers for browser tests: the staff workspace menu groups pages into dropdowns."""

from playwright.sync_api import Page


def open_menu(page: Page, group: str) -> None:
    """Open one dropdown of the workspace menu ("Clients", "Catalog", "Billing", "Admin")."""
    nav = page.get_by_role("navigation", name="Staff workspace")
    toggler = nav.locator(".navbar-toggler")
    if toggler.is_visible():  # small screens: the menu is collapsed behind a button
        toggler.click()
    nav.get_by_role("button", name=group, exact=True).click()


def go_to(page: Page, group: str, link: str) -> None:
    """Follow a link of the workspace menu: `go_to(page, "Billing", "Billing runs")`."""
    open_menu(page, group)
    page.get_by_role("navigation", name="Staff workspace").get_by_role(
        "link", name=link, exact=True
    ).click()
