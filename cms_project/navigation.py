"""The staff workspace menu, in one place.

Each entry names a URL (`namespace:name`); an entry whose URL does not resolve (a page another
branch has not landed yet) is simply left out, so the menu never breaks a page. To add a page,
add an `Item` to its group here.

The active entry is the one whose `match` prefix is the longest prefix of the current view
name: "invoices:" marks every invoice page, "invoices:billing" wins on the billing pages.
"""

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Item:
    url_name: str
    label: str
    # View-name prefixes this entry stands for; by default just its own URL name.
    match: tuple[str, ...] = ()
    admin_only: bool = False

    @property
    def prefixes(self) -> tuple[str, ...]:
        return self.match or (self.url_name,)


@dataclass(frozen=True)
class Group:
    label: str
    items: tuple[Item, ...] = field(default_factory=tuple)
    admin_only: bool = False


WORKSPACE_MENU: tuple[Item | Group, ...] = (
    Item("workspace_home", "Dashboard"),
    Group(
        "Clients",
        (
            Item("clients:client_list", "Clients", match=("clients:",)),
            Item("clients:task_list", "My tasks", match=("clients:task_",)),
            Item(
                "clients:pipeline",
                "Pipeline",
                match=("clients:pipeline", "clients:opportunit", "clients:client_opportunit"),
            ),
            Item("clients:equipment_list", "Equipment", match=("clients:equipment_",)),
            Item("clients:import_start", "Import", match=("clients:import_",)),
        ),
    ),
    Group(
        "Catalog",
        (
            Item("services:catalog", "Services", match=("services:",)),
            Item(
                "services:subscription_list",
                "Subscriptions",
                match=("services:subscription_", "services:location_search"),
            ),
        ),
    ),
    Group(
        "Billing",
        (
            Item("invoices:list", "Invoices", match=("invoices:",)),
            Item("invoices:billing", "Billing runs", match=("invoices:billing",)),
            Item("invoices:payments", "Payments", match=("invoices:payment",)),
            Item("invoices:late_payers", "Late payers", match=("invoices:late_payers",)),
            Item("messaging:delivery_list", "Messages", match=("messaging:delivery",)),
        ),
    ),
    Item("reports:index", "Reports", match=("reports:",)),
    Group(
        "Admin",
        (
            Item("staff:team_list", "Team", match=("staff:team_",)),
            Item("company:settings", "Settings", match=("company:",)),
            Item("staff:audit_list", "Audit log", match=("staff:audit_",)),
            Item("staff:security_admin", "Security", match=("staff:security_",)),
            Item("messaging:outbox", "SMS outbox", match=("messaging:outbox",)),
        ),
        admin_only=True,
    ),
)


def url_if_exists(url_name: str, *args) -> str:
    """The URL of `url_name`, or "" when no such URL exists (yet)."""
    try:
        return reverse(url_name, args=args)
    except NoReverseMatch:
        return ""


def _active_url_name(view_name: str, menu) -> str:
    best, best_len = "", -1
    for entry in menu:
        for item in entry.items if isinstance(entry, Group) else (entry,):
            for prefix in item.prefixes:
                if view_name.startswith(prefix) and len(prefix) > best_len:
                    best, best_len = item.url_name, len(prefix)
    return best


def build_menu(*, view_name: str, is_admin: bool, menu=WORKSPACE_MENU) -> list[dict]:
    """The menu for one request: only links that resolve and the user may open, with the
    active entry (and its group) marked."""
    active = _active_url_name(view_name, menu)
    result = []
    for entry in menu:
        if entry.admin_only and not is_admin:
            continue
        if isinstance(entry, Group):
            links = [
                {"label": item.label, "url": url, "active": item.url_name == active}
                for item in entry.items
                if (url := url_if_exists(item.url_name)) and (is_admin or not item.admin_only)
            ]
            if links:
                result.append(
                    {
                        "label": entry.label,
                        "links": links,
                        "active": any(link["active"] for link in links),
                        "id": f"menu-{entry.label.lower()}",
                    }
                )
        elif url := url_if_exists(entry.url_name):
            result.append({"label": entry.label, "url": url, "active": entry.url_name == active})
    return result
