"""The pages `make bench` measures (GUIDE §5), who views each, and how many queries they run.

A page whose URL name does not resolve yet (a report still being built) is listed as missing
and skipped, so the suite includes it as soon as it lands on main.
"""

from dataclasses import asdict, dataclass

from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from clients.models import Client
from staff.models import User

STAFF_EMAIL = "staff@dataplusfiber.example"
CLIENT_EMAIL = "client@dataplusfiber.example"  # Alice Martin, a demo persona in every data set


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    role: str  # "staff" or "client": whose session requests it
    path: str  # "" when the page does not exist (yet)
    queries: int | None = None


def _url(name: str, *args, query: str = "") -> str:
    try:
        return reverse(name, args=args) + (f"?{query}" if query else "")
    except NoReverseMatch:
        return ""


def bench_pages() -> list[Page]:
    """The pages, resolved against the current database (Alice's client and latest invoice)."""
    alice = Client.objects.filter(user__email=CLIENT_EMAIL).first()
    invoice = alice.invoices.issued().order_by("-issue_date", "-pk").first() if alice else None
    client_pk = alice.pk if alice else 0
    invoice_pk = invoice.pk if invoice else 0
    pages = [
        ("floor", "Floor: bare list of 50 clients + count", "staff", _url("bench_floor")),
        (
            "client_search",
            "Client search (“smith”)",
            "staff",
            _url("clients:client_list", query="q=smith"),
        ),
        ("client_page", "Client page", "staff", _url("clients:client_detail", client_pk)),
        ("invoice_list", "Invoice list", "staff", _url("invoices:list")),
        ("staff_invoice", "Invoice page (staff)", "staff", _url("invoices:detail", invoice_pk)),
        ("late_payers", "Late payers", "staff", _url("invoices:late_payers")),
        ("payments", "Payments list", "staff", _url("invoices:payments")),
        ("dashboard", "Staff dashboard", "staff", _url("workspace_home")),
        ("report_revenue", "Report: revenue", "staff", _url("reports:report", "revenue")),
        (
            "report_top",
            "Report: top customers",
            "staff",
            _url("reports:report", "top-customers"),
        ),
        (
            "report_subscriptions",
            "Report: MRR and subscriptions",
            "staff",
            _url("reports:report", "subscriptions"),
        ),
        (
            "report_summary",
            "Report: customer summary",
            "staff",
            _url("reports:report", "customer-summary"),
        ),
        (
            "report_interactions",
            "Report: interactions",
            "staff",
            _url("reports:report", "interactions"),
        ),
        ("report_accounts", "Report: full account", "staff", _url("reports:report", "accounts")),
        ("portal_home", "Portal home", "client", _url("portal_home")),
        (
            "portal_invoice",
            "Invoice page (portal)",
            "client",
            _url("invoices_portal:detail", invoice_pk),
        ),
    ]
    return [Page(key, title, role, path) for key, title, role, path in pages]


def count_queries(pages: list[Page]) -> list[Page]:
    """Each page requested twice in-process as its viewer; the second request's queries are
    counted (the first warms per-process caches such as the company settings)."""
    users = {
        "staff": User.objects.get(email=STAFF_EMAIL),
        "client": User.objects.get(email=CLIENT_EMAIL),
    }
    counted = []
    for role, user in users.items():
        http = HttpClient(SERVER_NAME="localhost")
        http.force_login(user)
        for page in pages:
            if page.role != role or not page.path:
                continue
            http.get(page.path)
            with CaptureQueriesContext(connection) as queries:
                response = http.get(page.path)
            if response.status_code != 200:
                raise RuntimeError(f"{page.path} answered {response.status_code} to {role}")
            counted.append(Page(**{**asdict(page), "queries": len(queries)}))
    order = {page.key: index for index, page in enumerate(pages)}
    missing = [page for page in pages if not page.path]
    return sorted(counted + missing, key=lambda page: order[page.key])
