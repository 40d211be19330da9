"""The staff dashboard and the portal home: every figure against a hand-computed fixture, to
the cent; constant query counts; clients never see staff figures, only their own."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from clients import metrics as client_metrics
from clients.models import Client
from cms_project.dashboard import figures
from invoices import metrics as money_metrics
from invoices.allocation import record_payment
from invoices.drafts import create_draft
from invoices.issuing import issue_invoice
from invoices.tests.factories import line
from services import metrics as subscription_metrics
from services.tests.factories import (
    SubscriberFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
OCT, NOV = (2026, 10), (2026, 11)
TODAY = date(2026, 11, 30)


def test_mrr_new_and_churned_per_month(subscriptions):
    months = subscription_metrics.subscription_months(months=[OCT, NOV], today=TODAY)
    assert [m.mrr for m in months] == [D("255.49"), D("284.97")]
    assert [(m.new, m.churned) for m in months] == [(1, 0), (0, 1)]
    # The running month reads MRR on today, not on its last day.
    assert subscription_metrics.mrr_on(date(2026, 11, 14)) == D("94.99") + D("140.00")
    assert subscription_metrics.subscription_counts() == {
        "pending": 1,
        "active": 3,
        "suspended": 1,
        "cancelled": 1,
    }


def test_money_per_month_and_receivables(ledger):
    months = money_metrics.money_by_month([OCT, NOV, (2026, 12)])
    assert [(m.invoiced, m.collected) for m in months] == [
        (D("80.00"), D("0.00")),
        (D("218.51"), D("200.00")),
        (D("0.00"), D("-10.00")),
    ]
    period = money_metrics.money_between(date(2026, 11, 1), date(2026, 11, 30))
    assert (period.invoiced, period.collected, period.invoice_count) == (
        D("218.51"),
        D("200.00"),
        2,
    )
    owed = money_metrics.receivables(today=TODAY)
    assert (owed.outstanding, owed.outstanding_count) == (D("128.51"), 2)
    assert (owed.overdue, owed.overdue_count) == (D("80.00"), 1)


def test_revenue_by_service_lifetime_value_and_sales(ledger):
    assert money_metrics.revenue_by_service(date(2026, 10, 1), date(2026, 11, 30)) == [
        {"service": "Other charges", "revenue": D("200.00")},
        {"service": "Fiber 1 Gig", "revenue": D("91.00")},
    ]
    top = money_metrics.top_clients_by_lifetime_value(limit=10)
    assert [(r["client"].name, r["lifetime_value"]) for r in top] == [
        ("Carol Diaz", D("140.00")),
        ("Bob Nguyen", D("50.00")),
    ]
    sales = money_metrics.sales_metrics()
    assert (sales.count, sales.total, sales.average, sales.largest) == (
        2,
        D("200.00"),
        D("100.00"),
        D("150.00"),
    )


def test_client_figures(ledger):
    ClientFactoryStatus = Client.Status
    SubscriberFactory(status=ClientFactoryStatus.PROSPECT)
    assert client_metrics.clients_by_status() == {
        "prospect": 1,
        "active": 3,
        "suspended": 0,
        "cancelled": 0,
    }
    by_segment = {
        row["segment"]: row["total"] for row in client_metrics.clients_by_segment_and_status()
    }
    assert by_segment == {"residential": 3, "business": 1}


def test_the_dashboard_shows_the_figures_of_the_period(login, staff_user, ledger, subscriptions):
    period = figures.Period(key="x", label="November", first=date(2026, 11, 1), last=TODAY)
    data = figures.staff_dashboard(period=period, today=TODAY, with_staff_count=False)
    assert data["mrr"] == D("284.97")  # Bob's pending gig does not count
    assert data["money"].invoiced == D("218.51")
    assert data["receivables"].overdue == D("80.00")
    assert [m.label for m in data["money_months"]][-2:] == ["Oct 2026", "Nov 2026"]
    chart = figures.chart_data(data)
    assert chart["revenue"]["invoiced"][-2:] == ["80.00", "218.51"]


def test_the_period_selector(staff_user):
    assert figures.period_for("last_month", today=TODAY).first == date(2026, 10, 1)
    assert figures.period_for("last_month", today=TODAY).last == date(2026, 10, 31)
    assert figures.period_for("last_3_months", today=TODAY).months == [(2026, 9), OCT, NOV]
    assert figures.period_for("this_year", today=TODAY).first == date(2026, 1, 1)
    assert figures.period_for("<script>", today=TODAY).key == "this_month"


def test_the_dashboard_page_renders_charts_and_links_each_kpi(login, staff_user, ledger):
    page = login(staff_user).get(reverse("workspace_home"), {"period": "this_year"})
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("<canvas") == 6
    assert 'id="dashboard-data"' in html and "chart.umd.min.js" in html
    assert f"{reverse('clients:client_list')}?status=active" in html
    assert f"{reverse('invoices:list')}?overdue=on" in html
    assert 'data-kpi="staff"' not in html  # admins only


def test_a_kpi_link_lands_on_the_filtered_list(login, staff_user, ledger):
    client = login(staff_user)
    listed = client.get(
        reverse("invoices:list"), {"issued_from": "2026-11-01", "issued_to": "2026-11-30"}
    )
    assert {i.total for i in listed.context["page"]} == {D("98.51"), D("120.00")}
    still_open = client.get(reverse("invoices:list"), {"open": "1"})
    assert {i.balance for i in still_open.context["page"]} == {D("80.00"), D("48.51")}


def test_the_dashboard_keeps_a_constant_number_of_queries(
    login, admin_user, catalog, django_assert_max_num_queries
):
    from django.core.cache import cache

    client = login(admin_user)
    with django_assert_max_num_queries(40) as small:
        assert client.get(reverse("workspace_home")).status_code == 200
    for _ in range(6):
        who = SubscriberFactory()
        SubscriptionFactory(service=catalog["gig"], location=SubscriberLocationFactory(client=who))
        issue_invoice(invoice=create_draft(client=who, lines=[line()]))
        record_payment(client=who, amount=D("10.00"), method="cash", received_on=TODAY)
    # Measure the figures being computed, not read from the cache.
    cache.delete(
        figures.dashboard_cache_key(
            period_key="this_month", today=timezone.localdate(), with_staff_count=True
        )
    )
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(reverse("workspace_home")).status_code == 200
    with django_assert_max_num_queries(len(small.captured_queries) - 5):
        assert client.get(reverse("workspace_home")).status_code == 200  # cached now


def test_the_figures_are_cached_for_a_minute_per_period(login, staff_user, ledger):
    from django.core.cache import cache

    client = login(staff_user)
    first = client.get(reverse("workspace_home")).context["f"]
    record_payment(client=ledger["alice"], amount=D("80.00"), method="cash", received_on=TODAY)
    assert client.get(reverse("workspace_home")).context["f"]["money"] == first["money"]
    cache.clear()
    assert client.get(reverse("workspace_home")).context["f"]["receivables"].outstanding == D(
        "48.51"
    )


def test_clients_never_reach_the_staff_dashboard(login, alice_user):
    assert login(alice_user).get(reverse("workspace_home")).status_code == 403


def test_the_portal_home_shows_only_the_clients_own_figures(login, alice_user, ledger):
    page = login(alice_user).get(reverse("portal_home"))
    html = page.content.decode()
    home = page.context["home"]
    assert home["ledger"].balance == D("80.00")
    assert home["next_due_date"] == date(2026, 10, 20)
    assert [i.total for i in home["recent_invoices"]] == [D("80.00")]
    assert home["recent_payments"] == []
    assert "Bob Nguyen" not in html and "98.51" not in html and "Carol" not in html


def test_the_portal_home_keeps_a_constant_number_of_queries(
    login, alice_user, ledger, catalog, django_assert_max_num_queries
):
    client = login(alice_user)
    alice = ledger["alice"]
    SubscriptionFactory(service=catalog["gig"], location=SubscriberLocationFactory(client=alice))
    with django_assert_max_num_queries(30) as small:
        client.get(reverse("portal_home"))
    for _ in range(3):
        SubscriptionFactory(service=catalog["tv"], location=SubscriberLocationFactory(client=alice))
        issue_invoice(invoice=create_draft(client=alice, lines=[line()]))
    record_payment(client=alice, amount=D("5.00"), method="cash", received_on=TODAY)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("portal_home"))
