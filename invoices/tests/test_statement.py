"""The client statement to the cent against a hand-built history, aging buckets, the staff
and portal pages, PDF and CSV, and who may see which statement."""

import csv
import io
from datetime import date
from decimal import Decimal as D

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from clients.models import Client

from ..allocation import record_payment, reverse_payment
from ..credit_notes import create_credit_note
from ..issuing import issue_invoice
from ..ledger import client_balance
from ..models import Invoice
from ..statement import Aging, aging_buckets, build_statement, client_aging
from .factories import SubscriberFactory, draft_invoice, line

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 4)


@pytest.fixture(autouse=True)
def on_december_4th(monkeypatch):
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)
    with time_machine.travel("2026-12-04 10:00:00-06:00", tick=False):
        yield


def invoice_on(client, issued: date, due: date, *lines) -> Invoice:
    invoice = issue_invoice(
        invoice=draft_invoice(client=client, lines=list(lines)), issue_date=issued
    )
    Invoice.objects.filter(pk=invoice.pk).update(due_date=due)
    return Invoice.objects.get(pk=invoice.pk)


def pay(client, amount: str, on: date):
    return record_payment(client=client, amount=amount, method="cash", received_on=on)


def history(client) -> dict:
    """The hand-built history of the module docstring's example, to the cent:

    Aug 1  INV1 100.00          100.00    Aug 10  payment 100.00        0.00
    Sep 1  INV2  80.00           80.00    Oct 1   INV3 60.00 (40+20)  140.00
    Oct 5  credit note -20.00   120.00    Nov 1   INV4 45.50          165.50
    Nov 20 payment  50.00       115.50    Nov 25  payment 20.00        95.50
    Nov 26 payment reversed     115.50    Dec 1   INV5 25.25          140.75
    """
    inv1 = invoice_on(client, date(2026, 8, 1), date(2026, 8, 16), line(unit_price="100.00"))
    p1 = pay(client, "100.00", date(2026, 8, 10))
    inv2 = invoice_on(client, date(2026, 9, 1), date(2026, 9, 16), line(unit_price="80.00"))
    inv3 = invoice_on(
        client,
        date(2026, 10, 1),
        date(2026, 10, 16),
        line("Fiber 1 Gig", unit_price="40.00"),
        line("Router rental", unit_price="20.00"),
    )
    router = inv3.lines.get(description="Router rental")
    note = create_credit_note(
        invoice=inv3, reason="Router returned", line_ids=[router.pk], issue_date=date(2026, 10, 5)
    )
    inv4 = invoice_on(client, date(2026, 11, 1), date(2026, 11, 16), line(unit_price="45.50"))
    p2 = pay(client, "50.00", date(2026, 11, 20))
    p3 = pay(client, "20.00", date(2026, 11, 25))
    reverse_payment(payment=p3, reason="Check bounced", reversed_on=date(2026, 11, 26))
    inv5 = invoice_on(client, date(2026, 12, 1), date(2026, 12, 16), line(unit_price="25.25"))
    return locals()


def test_the_running_balance_to_the_cent_ends_at_the_ledger_balance():
    client = SubscriberFactory()
    h = history(client)
    statement = build_statement(client=client)
    rows = [(e.date, e.kind, e.number, e.charge, e.credit, e.balance) for e in statement.entries]
    assert rows == [
        (date(2026, 8, 1), "invoice", h["inv1"].number, D("100.00"), D("0.00"), D("100.00")),
        (date(2026, 8, 10), "payment", h["p1"].number, D("0.00"), D("100.00"), D("0.00")),
        (date(2026, 9, 1), "invoice", h["inv2"].number, D("80.00"), D("0.00"), D("80.00")),
        (date(2026, 10, 1), "invoice", h["inv3"].number, D("60.00"), D("0.00"), D("140.00")),
        (date(2026, 10, 5), "credit_note", h["note"].number, D("0.00"), D("20.00"), D("120.00")),
        (date(2026, 11, 1), "invoice", h["inv4"].number, D("45.50"), D("0.00"), D("165.50")),
        (date(2026, 11, 20), "payment", h["p2"].number, D("0.00"), D("50.00"), D("115.50")),
        (date(2026, 11, 25), "payment", h["p3"].number, D("0.00"), D("20.00"), D("95.50")),
        (date(2026, 11, 26), "reversal", h["p3"].number, D("20.00"), D("0.00"), D("115.50")),
        (date(2026, 12, 1), "invoice", h["inv5"].number, D("25.25"), D("0.00"), D("140.75")),
    ]
    assert statement.opening_balance == D("0.00")
    assert statement.closing_balance == D("140.75") == client_balance(client)
    assert (statement.total_charges, statement.total_credits) == (D("330.75"), D("190.00"))


def test_a_date_range_starts_from_the_opening_balance():
    client = SubscriberFactory()
    history(client)
    statement = build_statement(client=client, start=date(2026, 10, 1), end=date(2026, 11, 30))
    assert statement.opening_balance == D("80.00")
    assert [e.balance for e in statement.entries] == [
        D("140.00"),
        D("120.00"),
        D("165.50"),
        D("115.50"),
        D("95.50"),
        D("115.50"),
    ]
    assert statement.closing_balance == D("115.50")
    empty = build_statement(client=client, start=date(2027, 1, 1))
    assert (empty.entries, empty.opening_balance, empty.closing_balance) == (
        [],
        D("140.75"),
        D("140.75"),
    )


def test_aging_buckets_by_days_past_due():
    client = SubscriberFactory()
    history(client)
    # INV2 30.00 due Sep 16 (79 days), INV3 40.00 due Oct 16 (49), INV4 45.50 due Nov 16 (18),
    # INV5 25.25 due Dec 16 (not yet due).
    assert client_aging(client) == Aging(
        current=D("25.25"),
        days_1_30=D("45.50"),
        days_31_60=D("40.00"),
        days_61_90=D("30.00"),
        days_90_plus=D("0.00"),
    )
    assert client_aging(client).total == D("140.75")
    assert client_aging(client, today=date(2027, 1, 1)).days_90_plus == D("30.00")


def test_bucket_edges():
    client = SubscriberFactory()
    for due, amount in [
        (date(2026, 12, 4), "1.00"),  # due today: current
        (date(2026, 12, 3), "2.00"),  # 1 day
        (date(2026, 11, 4), "3.00"),  # 30 days
        (date(2026, 11, 3), "4.00"),  # 31 days
        (date(2026, 10, 5), "5.00"),  # 60 days
        (date(2026, 10, 4), "6.00"),  # 61 days
        (date(2026, 9, 5), "7.00"),  # 90 days
        (date(2026, 9, 4), "8.00"),  # 91 days
    ]:
        invoice_on(client, date(2026, 8, 1), due, line(unit_price=amount))
    assert client_aging(client) == Aging(D("1.00"), D("5.00"), D("9.00"), D("13.00"), D("8.00"))


def test_aging_for_many_clients_is_one_query(django_assert_num_queries):
    clients = []
    for n in range(3):
        c = SubscriberFactory()
        invoice_on(c, date(2026, 8, 1), date(2026, 8, 16), line(unit_price=f"{n + 1}0.00"))
        invoice_on(c, date(2026, 12, 1), date(2026, 12, 16), line(unit_price="5.00"))
        clients.append(c)
    SubscriberFactory()  # nothing owed
    with django_assert_num_queries(1):
        rows = list(aging_buckets(Client.objects.order_by("pk")))
    figures = [Aging.from_annotations(r) for r in rows]
    assert [f.days_90_plus for f in figures] == [D("10.00"), D("20.00"), D("30.00"), D("0.00")]
    assert [f.current for f in figures] == [D("5.00")] * 3 + [D("0.00")]
    overdue = aging_buckets(Client.objects.all()).filter(aging_days_90_plus__gt=0)
    assert overdue.count() == 3


def test_statement_queries_do_not_grow_with_history(django_assert_max_num_queries):
    client = SubscriberFactory()
    history(client)
    with django_assert_max_num_queries(7):
        build_statement(client=client)
    for _ in range(10):
        invoice_on(client, date(2026, 11, 2), date(2026, 11, 17), line(unit_price="1.00"))
        pay(client, "1.00", date(2026, 11, 3))
    with django_assert_max_num_queries(7):
        build_statement(client=client)


# --- Pages -----------------------------------------------------------------------------------
def test_alice_sees_her_statement_balance_and_aging(login, alice_user, alice_client):
    history(alice_client)
    page = login(alice_user).get(reverse("invoices:portal_statement")).content.decode()
    assert 'id="statement-balance">$140.75<' in page
    assert "$45.50" in page and "Check bounced" in page
    assert "Opening balance" in page and "Closing balance" in page


def test_staff_see_any_clients_statement_linked_from_the_client_page(
    rf, login, staff_user, alice_client
):
    from django.template.loader import render_to_string

    history(alice_client)
    http = login(staff_user)
    url = reverse("invoices:client_statement", args=[alice_client.pk])
    # The client page shows the invoices app's fragment (the clients app never imports it).
    request = rf.get("/")
    request.user = staff_user
    fragment = render_to_string(
        "invoices/_client_invoices.html", {"client": alice_client}, request=request
    )
    assert url in fragment
    page = http.get(url, {"start": "2026-10-01", "end": "2026-11-30"}).content.decode()
    assert 'id="statement-balance">$115.50<' in page
    assert f"{reverse('invoices:client_statement_pdf', args=[alice_client.pk])}?start=" in page


def test_the_csv_to_the_cent(login, alice_user, alice_client):
    h = history(alice_client)
    response = login(alice_user).get(
        reverse("invoices:portal_statement_csv"), {"start": "2026-11-01"}
    )
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Date", "Type", "Reference", "Description", "Charges", "Credits", "Balance"]
    assert rows[1] == ["2026-11-01", "Opening balance", "", "", "", "", "120.00"]
    assert rows[2][:2] + rows[2][4:] == ["2026-11-01", "Invoice", "45.50", "", "165.50"]
    assert rows[5] == [
        "2026-11-26", "Payment reversed", h["p3"].number, "Check bounced", "20.00", "", "115.50"
    ]  # fmt: skip
    assert rows[-1] == ["2026-12-04", "Closing balance", "", "", "", "", "140.75"]


def test_the_pdf_reads_back_with_the_figures(login, staff_user, alice_client):
    history(alice_client)
    response = login(staff_user).get(
        reverse("invoices:client_statement_pdf", args=[alice_client.pk])
    )
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "STATEMENT" in text.upper() and alice_client.account_number in text
    for figure in ("$140.75", "$115.50", "$45.50", "Over 90 days"):
        assert figure in text


def test_a_bad_date_range_is_answered_next_to_the_field(login, alice_user, alice_client):
    response = login(alice_user).get(
        reverse("invoices:portal_statement"), {"start": "2026-12-01", "end": "2026-11-01"}
    )
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
    response = login(alice_user).get(reverse("invoices:portal_statement"), {"start": "2026-02-30"})
    assert response.status_code == 400


def test_nobody_sees_another_clients_statement(
    login, alice_user, alice_client, bob_client, bob_user
):
    history(bob_client)
    http = login(alice_user)
    page = http.get(reverse("invoices:portal_statement")).content.decode()
    assert "$140.75" not in page and 'id="statement-balance">$0.00<' in page
    for name in ("client_statement", "client_statement_pdf", "client_statement_csv"):
        assert http.get(reverse(f"invoices:{name}", args=[bob_client.pk])).status_code == 403
    csv_text = http.get(reverse("invoices:portal_statement_csv")).content.decode()
    assert "80.00" not in csv_text


def test_the_statement_pages_cost_the_same_queries_whatever_the_history(
    login, alice_user, alice_client, django_assert_max_num_queries
):
    history(alice_client)
    portal = login(alice_user)
    portal.get(reverse("invoices:portal_statement"))
    with django_assert_max_num_queries(14) as small:
        portal.get(reverse("invoices:portal_statement"))
    for _ in range(10):
        invoice_on(alice_client, date(2026, 11, 2), date(2026, 11, 17), line(unit_price="1.00"))
        pay(alice_client, "1.00", date(2026, 11, 3))
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = portal.get(reverse("invoices:portal_statement"))
    assert page.content.decode().count("<tr>") >= 30
