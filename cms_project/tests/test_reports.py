"""Staff reports: figures to the cent on the dashboard's fixture, CSV exports that match the
page, constant query counts, filters that answer bad input, and clients kept out (403)."""

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, Interaction
from cms_project.dashboard import reports
from invoices.allocation import record_payment
from invoices.drafts import create_draft
from invoices.issuing import issue_invoice
from invoices.tests.factories import line
from services.tests.factories import (
    SubscriberFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
OCT_NOV = reports.Filters(first=date(2026, 10, 1), last=date(2026, 11, 30))


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_revenue_by_service_and_month_to_the_cent(ledger):
    report = reports.revenue_report(OCT_NOV)
    assert report.headers == ["Service", "Oct 2026", "Nov 2026", "Total"]
    assert report.rows == [
        ["Other charges", D("80.00"), D("120.00"), D("200.00")],
        ["Fiber 1 Gig", D("0.00"), D("91.00"), D("91.00")],
    ]
    assert report.footer == ["All services", D("80.00"), D("211.00"), D("291.00")]
    assert dict(report.summary) == {
        "Invoiced (totals incl. tax)": D("298.51"),
        "Credited": D("0.00"),
        "Collected (payments − refunds)": D("200.00"),
    }


def test_subscriptions_report(subscriptions, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda: date(2026, 11, 30))
    report = reports.subscriptions_report(OCT_NOV)
    assert report.rows == [["Oct 2026", D("255.49"), 1, 0], ["Nov 2026", D("284.97"), 0, 1]]


def test_the_subscriptions_report_is_computed_once_a_minute(
    login, staff_user, subscriptions, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(timezone, "localdate", lambda: date(2026, 11, 30))
    first = reports.subscriptions_report(OCT_NOV)
    with django_assert_max_num_queries(0):
        again = reports.subscriptions_report(OCT_NOV)
    assert again.rows == first.rows and again.computed_at == first.computed_at
    page = login(staff_user).get(
        reverse("reports:report", args=["subscriptions"]),
        {"first": "2026-10-01", "last": "2026-11-30"},
    )
    assert "(refreshed every minute)" in page.content.decode()
    reports.cache.clear()  # a minute later: computed afresh
    assert reports.subscriptions_report(OCT_NOV).computed_at > first.computed_at


def test_top_customers_and_customer_summary(ledger):
    SubscriberFactory(status=Client.Status.PROSPECT)
    SubscriberFactory(status=Client.Status.CANCELLED)
    top = reports.top_customers_report(
        reports.Filters(first=date(2026, 1, 1), last=date(2026, 12, 31))
    )
    assert [row[2:] for row in top.rows] == [
        ["Carol Diaz", "Active", D("140.00")],
        ["Bob Nguyen", "Active", D("50.00")],
    ]
    carol_page = reverse("clients:client_detail", args=[ledger["carol"].pk])
    assert top.rows_with_links()[0] == (top.rows[0], carol_page)
    november = reports.Filters(first=date(2026, 11, 1), last=date(2026, 11, 30))
    summary = {row[0]: row[1] for row in reports.customer_summary_report(november).rows}
    assert summary["Clients (all)"] == 5
    assert summary["Active"] == 3
    assert summary["Inactive (suspended or cancelled)"] == 1
    assert summary["Clients (not prospects)"] == 4
    assert summary["Prospects"] == 1
    assert summary["Total lifetime value"] == D("190.00")  # 200.00 paid − 10.00 refunded
    assert summary["Average lifetime value per client (not prospects)"] == D("47.50")
    assert summary["Payments: total"] == D("200.00")
    assert summary["Payments: average"] == D("100.00")
    assert summary["Payments: largest"] == D("150.00")


def test_interaction_analysis_by_type_and_outcome(ledger):
    when = timezone.make_aware(datetime(2026, 11, 12, 10, 0))
    for kind, outcome in [("call", "Promised to pay"), ("call", "Promised to pay"), ("call", ""),
                          ("site_visit", "Router replaced")]:  # fmt: skip
        Interaction.objects.create(
            client=ledger["bob"], kind=kind, subject="x", outcome=outcome, occurred_at=when
        )
    report = reports.interactions_report(OCT_NOV)
    assert report.rows == [
        ["Call", "Promised to pay", 2],
        ["Call", "(none recorded)", 1],
        ["Site visit", "Router replaced", 1],
    ]
    assert report.footer == ["All", "", 4]


@pytest.mark.parametrize("name", ["revenue", "top-customers", "customer-summary", "interactions"])
def test_the_csv_matches_the_page(login, staff_user, ledger, name):
    client = login(staff_user)
    query = {"first": "2026-10-01", "last": "2026-11-30"}
    page = client.get(reverse("reports:report", args=[name]), query)
    report = page.context["report"]
    rows = _csv(client.get(reverse("reports:report_csv", args=[name]), query))
    expected = [report.headers, *report.rows, *([report.footer] if report.footer else [])]
    assert rows == [["" if v is None else str(v) for v in row] for row in expected]
    html = page.content.decode()
    for row in report.rows:
        assert str(row[0]) in html


def test_the_full_account_report_and_its_csv(login, staff_user, ledger, catalog):
    alice = ledger["alice"]
    where = SubscriberLocationFactory(client=alice, label="Home", street="12 Oak Street")
    SubscriptionFactory(
        service=__import__("services").models.Service.objects.get(name="TV Basic"), location=where
    )
    client = login(staff_user)
    page = client.get(reverse("reports:report", args=["accounts"]), {"q": "alice"})
    assert page.status_code == 200
    [row] = page.context["rows"]
    assert row[:2] == [alice.account_number, "Alice Martin"]
    assert row[5] == "Home: 12 Oak Street, Springfield"
    assert row[6] == "TV Basic (Home)"
    assert row[8:13] == [D("80.00"), D("0.00"), D("80.00"), D("80.00"), D("0.00")]
    html = page.content.decode()
    cells = re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", html.split("<tbody>")[1].split("</tr>")[0])
    assert cells[:3] == [alice.account_number, "Alice Martin", "Active"]
    assert cells[5:13] == [
        "Home: 12 Oak Street, Springfield", "TV Basic (Home)", "",
        "$80.00", "$0.00", "$80.00", "$80.00", "$0.00",
    ]  # fmt: skip
    rows = _csv(client.get(reverse("reports:report_csv", args=["accounts"]), {"q": "alice"}))
    assert rows[0] == reports.ACCOUNT_HEADERS
    assert rows[1] == [str(v) if v is not None else "" for v in row]


def test_the_account_report_escapes_what_clients_typed(login, staff_user, ledger):
    alice = ledger["alice"]
    alice.company_name = "<script>alert(1)</script> & Co"
    alice.save()
    html = login(staff_user).get(reverse("reports:report", args=["accounts"])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "<script>alert(1)" not in html
    empty = login(staff_user).get(reverse("reports:report", args=["accounts"]), {"q": "nobody"})
    assert "No client matches." in empty.content.decode()


def test_the_account_rows_say_every_location_service_and_device_in_order(catalog):
    from clients.models import Equipment
    from clients.tests.factories import EquipmentFactory
    from services.models import Subscription

    who = SubscriberFactory(name="Zed Zulu")
    home = SubscriberLocationFactory(client=who, label="Home", street="1 A St", city="Here")
    shop = SubscriberLocationFactory(client=who, label="Bakery", street="2 B St", city="There")
    SubscriptionFactory(service=catalog["tv"], location=home, quantity=2)
    SubscriptionFactory(service=catalog["gig"], location=home)
    SubscriptionFactory(service=catalog["gig"], location=shop, status=Subscription.Status.SUSPENDED)
    SubscriptionFactory(service=catalog["tv"], location=shop, status=Subscription.Status.PENDING)
    EquipmentFactory(location=home, serial_number="S2", kind=Equipment.Kind.ROUTER)
    EquipmentFactory(location=shop, serial_number="S1", kind=Equipment.Kind.ONT, status="in_stock")
    bare = SubscriberFactory(name="Yan Young")
    filters = reports.Filters(first=date(2026, 10, 1), last=date(2026, 11, 30))
    rows = {row[1]: row for row in reports.account_rows_for(list(reports.account_clients(filters)))}
    assert rows["Zed Zulu"][5:8] == [
        "Bakery: 2 B St, There; Home: 1 A St, Here",
        "Fiber 1 Gig (Bakery, suspended); Fiber 1 Gig (Home); TV Basic ×2 (Home)",
        f"ONT S1 (Bakery, {Equipment.Status('in_stock').label}); Router S2 (Home, Installed)",
    ]
    assert rows["Yan Young"][5:8] == ["", "", ""] and bare.pk
    # The CSV, in chunks of one client, says the same.
    csv_rows = list(reports.account_rows(filters, chunk_size=1))
    assert csv_rows[1:] == sorted(rows.values(), key=lambda row: row[0])


@pytest.mark.parametrize(
    "name",
    ["accounts", "revenue", "subscriptions", "top-customers", "customer-summary", "interactions"],
)
def test_reports_keep_a_constant_number_of_queries(
    login, staff_user, catalog, name, django_assert_max_num_queries
):
    client = login(staff_user)
    url = reverse("reports:report", args=[name])

    def grow():
        who = SubscriberFactory()
        SubscriptionFactory(service=catalog["gig"], location=SubscriberLocationFactory(client=who))
        issue_invoice(invoice=create_draft(client=who, lines=[line()]))
        record_payment(
            client=who, amount=D("10.00"), method="cash", received_on=timezone.localdate()
        )

    grow()
    with django_assert_max_num_queries(25) as small:
        assert client.get(url).status_code == 200
    for _ in range(5):
        grow()
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_the_filters_answer_bad_input(login, staff_user):
    client = login(staff_user)
    page = client.get(
        reverse("reports:report", args=["revenue"]), {"first": "2026-11-01", "last": "2026-01-01"}
    )
    assert page.status_code == 200
    assert "The end date cannot be before the start date." in page.content.decode()
    page = client.get(reverse("reports:report", args=["revenue"]), {"first": "nonsense"})
    assert "Enter a valid date." in page.content.decode()
    assert client.get(reverse("reports:report", args=["nope"])).status_code == 404


def test_clients_never_reach_the_reports(login, alice_user):
    client = login(alice_user)
    assert client.get(reverse("reports:index")).status_code == 403
    for name in reports.REPORTS:
        assert client.get(reverse("reports:report", args=[name])).status_code == 403
        assert client.get(reverse("reports:report_csv", args=[name])).status_code == 403


def test_top_customers_link_to_their_client_pages(login, staff_user, ledger):
    page = login(staff_user).get(reverse("reports:report", args=["top-customers"]))
    html = page.content.decode()
    carol = reverse("clients:client_detail", args=[ledger["carol"].pk])
    assert f'<a href="{carol}">Carol Diaz</a>' in html


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_unfiltered_account_report_shows_an_estimate_past_a_huge_count(
    login, staff_user, monkeypatch
):
    from django.db import connection

    from cms_project import pagination

    for _ in range(3):
        SubscriberFactory()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE clients_client")
    monkeypatch.setattr(pagination, "ESTIMATE_ABOVE", 2)  # "huge" = more than 2 rows here
    client = login(staff_user)
    page = client.get(reverse("reports:report", args=["accounts"]))
    assert "About 3 clients." in page.content.decode()
    filtered = client.get(reverse("reports:report", args=["accounts"]), {"status": "active"})
    assert "About" not in filtered.content.decode()  # a filtered list is counted exactly
