"""The figures of the staff dashboard, composed from the functions of the apps that own the
data (money: invoices.metrics, subscriptions: services.metrics, clients: clients.metrics).
Every figure is a database aggregate; the query count does not grow with the data."""

from dataclasses import dataclass
from datetime import date

from django.core.cache import cache
from django.db.models import Min, Q
from django.utils import timezone

from clients import metrics as client_metrics
from cms_project.money import period_bounds, previous_period
from invoices import metrics as money_metrics
from invoices.ledger import figures_for
from invoices.models import Invoice, Payment
from services import metrics as subscription_metrics
from services.models import Subscription
from services.monthly_bill import monthly_bill
from services.subscriptions import subscriptions_of_client
from staff.models import Role, User

PERIODS = {
    "this_month": "This month",
    "last_month": "Last month",
    "last_3_months": "Last 3 months",
    "last_12_months": "Last 12 months",
    "this_year": "This year",
}
DEFAULT_PERIOD = "this_month"


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    first: date
    last: date

    @property
    def months(self) -> list[tuple[int, int]]:
        """The months the period covers, oldest first."""
        result, ym = [], (self.last.year, self.last.month)
        while ym >= (self.first.year, self.first.month):
            result.append(ym)
            ym = previous_period(*ym)
        return result[::-1]


def period_for(key: str, *, today: date) -> Period:
    """A period of the selector, ending today (or at the end of last month)."""
    key = key if key in PERIODS else DEFAULT_PERIOD
    this_month = (today.year, today.month)
    if key == "last_month":
        first, last = period_bounds(*previous_period(*this_month))
    elif key in ("last_3_months", "last_12_months"):
        ym = this_month
        for _ in range(2 if key == "last_3_months" else 11):
            ym = previous_period(*ym)
        first, last = period_bounds(*ym)[0], today
    elif key == "this_year":
        first, last = date(today.year, 1, 1), today
    else:
        first, last = period_bounds(*this_month)[0], today
    return Period(key=key, label=PERIODS[key], first=first, last=last)


def twelve_months_to(last: date) -> list[tuple[int, int]]:
    ym, months = (last.year, last.month), []
    for _ in range(12):
        months.append(ym)
        ym = previous_period(*ym)
    return months[::-1]


def staff_dashboard(*, period: Period, today: date, with_staff_count: bool) -> dict:
    months = twelve_months_to(period.last)
    money_months = money_metrics.money_by_month(months)
    subscription_months = subscription_metrics.subscription_months(months=months, today=today)
    figures = {
        "period": period,
        "clients_by_status": client_metrics.clients_by_status(),
        "clients_by_segment": client_metrics.clients_by_segment_and_status(),
        "subscriptions": subscription_metrics.subscription_counts(),
        "mrr": subscription_months[-1].mrr,
        "money": money_metrics.money_between(period.first, period.last),
        "receivables": money_metrics.receivables(today=today),
        "tasks": client_metrics.open_task_counts(today=today),
        "money_months": money_months,
        "subscription_months": subscription_months,
        "top_clients": money_metrics.top_clients_by_lifetime_value(limit=10),
        "revenue_by_service": money_metrics.revenue_by_service(period.first, period.last),
        "interactions": client_metrics.interactions_by_kind(
            since=date.fromordinal(today.toordinal() - 29), until=today
        ),
    }
    if with_staff_count:
        figures["staff_count"] = User.objects.filter(
            role__in=[Role.STAFF, Role.ADMIN], is_active=True
        ).count()
    return figures


# The dashboard's aggregates read a year of invoices and every subscription: computed at most
# once a minute per period (and per "with staff count"), shared by every staff member.
DASHBOARD_CACHE_SECONDS = 60


def dashboard_cache_key(*, period_key: str, today: date, with_staff_count: bool) -> str:
    return f"dashboard:v1:{period_key}:{today.isoformat()}:{int(with_staff_count)}"


def cached_staff_dashboard(*, period: Period, today: date, with_staff_count: bool) -> dict:
    key = dashboard_cache_key(period_key=period.key, today=today, with_staff_count=with_staff_count)
    data = cache.get(key)
    if data is None:
        data = staff_dashboard(period=period, today=today, with_staff_count=with_staff_count)
        data["computed_at"] = timezone.now()
        cache.set(key, data, DASHBOARD_CACHE_SECONDS)
    return data


def chart_data(figures: dict) -> dict:
    """What the charts draw (handed to the page with json_script): strings for money, so no
    float ever stands for an amount in our code."""
    return {
        "revenue": {
            "labels": [m.label for m in figures["money_months"]],
            "invoiced": [str(m.invoiced) for m in figures["money_months"]],
            "collected": [str(m.collected) for m in figures["money_months"]],
        },
        "mrr": {
            "labels": [m.label for m in figures["subscription_months"]],
            "mrr": [str(m.mrr) for m in figures["subscription_months"]],
        },
        "clients": {
            "labels": [row["label"] for row in figures["clients_by_segment"]],
            "statuses": list(figures["clients_by_status"].keys()),
            "counts": [list(row["counts"].values()) for row in figures["clients_by_segment"]],
        },
        "top_clients": {
            "labels": [row["client"].display_name for row in figures["top_clients"]],
            "values": [str(row["lifetime_value"]) for row in figures["top_clients"]],
        },
        "services": {
            "labels": [row["service"] for row in figures["revenue_by_service"]],
            "values": [str(row["revenue"]) for row in figures["revenue_by_service"]],
        },
        "interactions": {
            "labels": [row["label"] for row in figures["interactions"]],
            "values": [row["count"] for row in figures["interactions"]],
        },
    }


def client_home(*, client, today: date) -> dict:
    """The portal home of one client: only that client's figures. Constant query count."""
    subscriptions = list(
        subscriptions_of_client(client).filter(status__in=Subscription.OPEN_STATUSES)
    )
    by_location: dict[int, dict] = {}
    for subscription in subscriptions:
        entry = by_location.setdefault(
            subscription.location_id, {"location": subscription.location, "subscriptions": []}
        )
        entry["subscriptions"].append(subscription)
    open_invoices = Invoice.objects.open().filter(client=client)
    due = open_invoices.aggregate(next_due=Min("due_date", filter=Q(balance__gt=0)))
    # Billing runs bill the month that ended: the next invoice is this month's bill.
    year, month = today.year, today.month
    return {
        "services_by_location": list(by_location.values()),
        "ledger": figures_for(client),
        "next_due_date": due["next_due"],
        "next_bill": monthly_bill(client=client, year=year, month=month),
        "recent_invoices": list(
            Invoice.objects.issued().filter(client=client).order_by("-issue_date", "-pk")[:5]
        ),
        "recent_payments": list(
            Payment.objects.filter(client=client).order_by("-received_on", "-pk")[:5]
        ),
    }
