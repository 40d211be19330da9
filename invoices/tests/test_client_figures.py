"""Ledger figures on the staff client list, export and page (through clients.ledger_hooks,
registered by this app), and the "has overdue balance" filter."""

import csv
import io
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clients import ledger_hooks
from clients.models import Client

from ..allocation import record_payment
from ..ledger import with_ledger_figures, with_overdue_balance
from ..models import Invoice, PaymentMethod
from .factories import SubscriberFactory, issued_invoice, line

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_pdf_rendering(monkeypatch):
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)


def _invoice(client, amount: str, *, due_days_ago: int) -> Invoice:
    invoice = issued_invoice(client=client, lines=[line(unit_price=amount)])
    Invoice.objects.filter(pk=invoice.pk).update(
        due_date=timezone.localdate() - timedelta(days=due_days_ago)
    )
    return invoice


def _pay(client, amount: str):
    return record_payment(
        client=client,
        amount=D(amount),
        method=PaymentMethod.CASH,
        received_on=timezone.localdate(),
    )


@pytest.fixture
def ledger():
    """Four clients: one overdue, one owing but not yet due, one in credit, one with nothing."""
    late = SubscriberFactory(name="Lena Late")
    _invoice(late, "80.00", due_days_ago=10)
    _pay(late, "30.10")  # partially paid: 49.90 still owed, past due
    not_due = SubscriberFactory(name="Nora Notdue")
    _invoice(not_due, "45.50", due_days_ago=-5)
    paid_up = SubscriberFactory(name="Paul Paid")
    _invoice(paid_up, "80.00", due_days_ago=40)
    _pay(paid_up, "100.00")  # 20.00 more than invoiced: credit
    nothing = SubscriberFactory(name="Ned New")
    return {"late": late, "not_due": not_due, "paid_up": paid_up, "nothing": nothing}


def test_the_invoices_app_registers_its_ledger_with_the_clients_app():
    assert ledger_hooks.available()
    assert ledger_hooks.with_figures.__module__ == "clients.ledger_hooks"  # no import upward


def test_the_list_shows_balance_and_lifetime_value_to_the_cent(login, staff_user, ledger):
    response = login(staff_user).get(reverse("clients:client_list"))
    rows = {c.name: c for c in response.context["page"]}
    assert ledger_hooks.money(rows["Lena Late"].ledger_balance) == D("49.90")
    assert ledger_hooks.money(rows["Lena Late"].lifetime_value) == D("30.10")
    assert ledger_hooks.money(rows["Nora Notdue"].ledger_balance) == D("45.50")
    assert ledger_hooks.money(rows["Paul Paid"].ledger_balance) == D("-20.00")
    assert ledger_hooks.money(rows["Paul Paid"].lifetime_value) == D("100.00")
    assert ledger_hooks.money(rows["Ned New"].ledger_balance) == D("0.00")
    page = response.content.decode()
    assert "$49.90" in page and "$30.10" in page and "-$20.00" in page and "(in credit)" in page


@pytest.mark.parametrize(
    ("sort", "names"),
    [
        # balances 49.90, 45.50, 0.00 (no document yet), -20.00
        ("-balance", ["Lena Late", "Nora Notdue", "Ned New", "Paul Paid"]),
        # lifetime values 100.00, 30.10, then 0.00 twice (by id: Nora before Ned)
        ("-lifetime", ["Paul Paid", "Lena Late", "Nora Notdue", "Ned New"]),
    ],
)
def test_the_list_sorts_by_balance_or_lifetime_value(login, staff_user, ledger, sort, names):
    browser = login(staff_user)
    response = browser.get(reverse("clients:client_list"), {"sort": sort})
    assert [c.name for c in response.context["page"]] == names
    assert f'<option value="{sort}" selected>' in response.content.decode()
    # with a search too (the page's ids come from the search, the figures with them):
    # one letter finds names starting with it
    response = browser.get(reverse("clients:client_list"), {"sort": sort, "q": "n"})
    assert [c.name for c in response.context["page"]] == [n for n in names if n[0] == "N"]
    assert response.context["page"][0].ledger_balance is not None


def test_the_overdue_filter_keeps_clients_with_an_open_invoice_past_due(login, staff_user, ledger):
    browser = login(staff_user)
    response = browser.get(reverse("clients:client_list"), {"overdue": "on"})
    assert [c.name for c in response.context["page"]] == ["Lena Late"]
    assert 'id="id_overdue" checked' in response.content.decode()
    # The invoice due today is not overdue yet; paying it off takes the client off the list.
    _pay(ledger["late"], "49.90")
    response = browser.get(reverse("clients:client_list"), {"overdue": "on"})
    assert list(response.context["page"]) == []


def test_the_export_of_the_filtered_list_has_only_overdue_clients_with_their_figures(
    login, staff_user, ledger
):
    response = login(staff_user).get(reverse("clients:client_export"), {"overdue": "on"})
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["name"], r["balance"], r["lifetime_value"]) for r in rows] == [
        ("Lena Late", "49.90", "30.10")
    ]


def test_an_export_with_figures_imports_back(login, staff_user, ledger):
    from clients.importing import parse_clients_csv

    response = login(staff_user).get(reverse("clients:client_export"))
    text = b"".join(response.streaming_content).decode()
    plan = parse_clients_csv(text)
    assert [e for e in plan.errors if e.field in ("balance", "lifetime_value")] == []
    assert len(plan.clients) == 4


def test_the_client_page_header_shows_balance_and_lifetime_value(login, staff_user, ledger):
    page = (
        login(staff_user)
        .get(reverse("clients:client_detail", args=[ledger["late"].pk]))
        .content.decode()
    )
    assert '<dd class="mb-0 fs-5" data-balance><span class="fw-semibold">$49.90</span>' in page
    assert '<dd class="mb-0 fs-5" data-lifetime-value>$30.10</dd>' in page


def test_the_client_page_reads_the_figures_it_loaded_instead_of_asking_again(
    ledger, django_assert_num_queries
):
    from ..ledger import figures_for, figures_of

    for client in ledger_hooks.clients_with_figures():
        with django_assert_num_queries(0):
            figures = figures_of(client)
        assert figures == figures_for(client)
    plain = Client.objects.get(pk=ledger["paid_up"].pk)  # loaded without the annotations
    with django_assert_num_queries(1):
        figures = figures_of(plain)
    assert figures == figures_for(plain) and figures.credit == D("20.00")


def test_the_invoice_summary_figures_cover_every_invoice_not_only_the_latest_shown(
    ledger, django_assert_num_queries
):
    from ..ledger import open_balance
    from ..queries import client_invoice_summary
    from ..suspension import overdue_balance

    client = ledger["late"]  # 49.90 overdue after a partial payment
    _invoice(client, "45.50", due_days_ago=-5)  # owed, not yet due
    _invoice(client, "12.00", due_days_ago=3)  # overdue too
    _pay(client, "0.01")  # the oldest due first: 49.89 left on the first
    with django_assert_num_queries(2):
        summary = client_invoice_summary(client=client, limit=1)
    assert len(summary.invoices) == 1 and summary.more
    assert summary.open_balance == open_balance(client) == D("107.39")
    assert summary.overdue_balance == overdue_balance(client) == D("61.89")
    assert summary.overdue_invoices == Invoice.objects.overdue().filter(client=client).count()
    assert summary.overdue_invoices == 2
    nothing = client_invoice_summary(client=ledger["nothing"])
    assert (nothing.invoices, nothing.open_balance, nothing.overdue_balance) == ([], 0, 0)
    assert nothing.overdue_invoices == 0


def _many(count: int) -> None:
    for n in range(count):
        client = SubscriberFactory()
        if n % 2:
            _invoice(client, "10.00", due_days_ago=3)
        if n % 3 == 0:
            _pay(client, "4.00")


@pytest.mark.parametrize("count", [5, 50])
def test_the_list_with_figures_and_filter_keeps_a_constant_query_count(
    login, staff_user, count, django_assert_max_num_queries
):
    _many(count)
    browser = login(staff_user)
    browser.get(reverse("clients:client_list"))  # warms the cached security policy
    with django_assert_max_num_queries(4):
        response = browser.get(reverse("clients:client_list"))
    assert len(response.context["page"]) == count
    with django_assert_max_num_queries(4):
        response = browser.get(reverse("clients:client_list"), {"overdue": "on"})
    assert len(response.context["page"]) == count // 2
    with django_assert_max_num_queries(4):
        response = browser.get(reverse("clients:client_list"), {"sort": "-balance"})
    assert len(response.context["page"]) == count


def test_the_overdue_filter_and_figures_agree_with_the_ledger_functions(ledger):
    from ..ledger import client_balance, lifetime_value

    annotated = with_ledger_figures(Client.objects.all())
    for client in annotated:
        assert ledger_hooks.money(client.ledger_balance) == client_balance(client)
        assert ledger_hooks.money(client.lifetime_value) == lifetime_value(client)
    overdue = with_overdue_balance(Client.objects.all(), timezone.localdate())
    assert list(overdue) == [ledger["late"]]


@pytest.mark.postgres_only
def test_the_overdue_filter_can_use_the_partial_index():
    query = with_overdue_balance(Client.objects.all(), timezone.localdate())
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    assert "invoice_open_owing_idx" in plan
