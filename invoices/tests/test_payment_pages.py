"""Staff payment pages: recording a payment (from the invoice page, the client page, the
general page), every bad input answered next to its field with nothing saved, the list with
filters, totals, sorting and CSV at a constant number of queries, the payment page with its
refund and reversal forms, the client page's money view and the admin."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse

from staff.models import AuditEntry

from ..allocation import record_payment
from ..models import Invoice, Payment, PaymentMethod, Refund
from .factories import SubscriberFactory, issued_invoice, line

pytestmark = pytest.mark.django_db
TODAY = date.today()


@pytest.fixture(autouse=True)
def no_pdf_rendering(monkeypatch):
    # Invoice PDFs are not what these tests are about (receipts are: test_receipts.py).
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)
    monkeypatch.setattr("invoices.receipts.schedule_receipt", lambda payment_id: None)


def invoice_for(client, amount: str, *, due_in_days: int = 0) -> Invoice:
    invoice = issued_invoice(client=client, lines=[line(unit_price=amount)])
    Invoice.objects.filter(pk=invoice.pk).update(due_date=TODAY + timedelta(days=due_in_days))
    return Invoice.objects.get(pk=invoice.pk)


def create_url(client, invoice=None) -> str:
    url = reverse("invoices:payment_create") + f"?client={client.account_number}"
    return url + (f"&invoice={invoice.pk}" if invoice else "")


def form_data(**overrides) -> dict:
    data = {
        "amount": "30.00",
        "received_on": TODAY.isoformat(),
        "method": PaymentMethod.CASH,
        "reference": "",
        "notes": "",
        "card_brand": "",
        "card_last4": "",
    }
    data.update(overrides)
    return data


def fresh(invoice: Invoice) -> Invoice:
    return Invoice.objects.get(pk=invoice.pk)


# --- Recording -------------------------------------------------------------------------------
def test_staff_record_part_of_an_invoice_from_its_page(login, staff_user):
    client = SubscriberFactory()
    older = invoice_for(client, "40.00", due_in_days=-30)
    invoice = invoice_for(client, "80.00", due_in_days=-1)
    browser = login(staff_user)
    page = browser.get(reverse("invoices:detail", args=[invoice.pk]))
    assert create_url(client, invoice).replace("&", "&amp;") in page.content.decode()

    form = browser.get(create_url(client, invoice))
    assert form.status_code == 200
    assert form.context["form"]["amount"].value() == "80.00"  # the invoice's balance

    response = browser.post(create_url(client, invoice), form_data(amount="30.00"), follow=True)
    payment = Payment.objects.get()
    assert response.redirect_chain[-1][0] == reverse("invoices:payment_detail", args=[payment.pk])
    assert f"receipt {payment.number}" in response.content.decode()
    # That invoice first, though another one is older.
    assert (fresh(invoice).balance, fresh(invoice).status) == (D("50.00"), "partially_paid")
    assert fresh(older).balance == D("40.00")
    assert payment.recorded_by == staff_user
    assert AuditEntry.objects.filter(action="payment.record").count() == 1


def test_from_an_invoice_page_the_rest_goes_to_the_oldest_others_then_credit(login, staff_user):
    client = SubscriberFactory()
    older = invoice_for(client, "40.00", due_in_days=-30)
    invoice = invoice_for(client, "80.00", due_in_days=-1)
    login(staff_user).post(create_url(client, invoice), form_data(amount="130.00"))
    payment = Payment.objects.get()
    assert fresh(invoice).status == fresh(older).status == "paid"
    assert payment.unallocated == D("10.00")


def test_without_an_invoice_the_oldest_due_is_paid_first(login, staff_user):
    client = SubscriberFactory()
    older = invoice_for(client, "40.00", due_in_days=-30)
    newer = invoice_for(client, "80.00", due_in_days=-1)
    login(staff_user).post(create_url(client), form_data(amount="50.00"))
    assert fresh(older).balance == D("0.00")
    assert fresh(newer).balance == D("70.00")


def test_staff_pick_amounts_per_invoice_and_the_rest_is_credit(login, staff_user):
    client = SubscriberFactory()
    older = invoice_for(client, "40.00", due_in_days=-30)
    newer = invoice_for(client, "80.00", due_in_days=-1)
    data = form_data(amount="100.00", **{f"pick_{newer.pk}": "80.00", f"pick_{older.pk}": "5.5"})
    response = login(staff_user).post(create_url(client), data)
    assert response.status_code == 302
    assert fresh(newer).balance == D("0.00")
    assert fresh(older).balance == D("34.50")
    assert Payment.objects.get().unallocated == D("14.50")


def test_the_general_page_asks_for_the_client_first(login, staff_user):
    browser = login(staff_user)
    page = browser.get(reverse("invoices:payment_create"))
    assert page.status_code == 200 and "account number" in page.content.decode()
    unknown = browser.get(reverse("invoices:payment_create") + "?client=NOPE-1")
    assert "No client has the account number NOPE-1." in unknown.content.decode()
    client = SubscriberFactory()
    invoice_for(client, "40.00")
    chosen = browser.get(reverse("invoices:payment_create") + f"?client={client.account_number}")
    assert chosen.context["client"] == client
    assert len(chosen.context["rows"]) == 1


def test_the_client_page_shows_the_money_view_and_links_to_record_a_payment(login, staff_user):
    client = SubscriberFactory()
    invoice_for(client, "100.00", due_in_days=-5)
    record_payment(client=client, amount="130.00", method="cash", received_on=TODAY)
    page = login(staff_user).get(reverse("clients:client_detail", args=[client.pk]))
    html = page.content.decode()
    assert create_url(client).split("?")[1] in html
    assert 'data-figure="client-balance">-$30.00<' in html
    assert 'data-figure="client-credit">$30.00<' in html
    assert 'data-figure="lifetime-value">$130.00<' in html
    assert Payment.objects.get().number in html


def test_the_invoice_page_lists_what_paid_it(login, staff_user):
    client = SubscriberFactory()
    invoice = invoice_for(client, "100.00")
    payment = record_payment(client=client, amount="60.00", method="check", received_on=TODAY)
    html = login(staff_user).get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    assert reverse("invoices:payment_detail", args=[payment.pk]) in html
    assert "$60.00" in html and "Check" in html


BAD_INPUTS = [
    ({"amount": "10.005"}, "amount", "at most two decimals"),
    ({"amount": "0"}, "amount", "more than zero"),
    ({"amount": "-5"}, "amount", "more than zero"),
    ({"amount": "ten"}, "amount", "as a number"),
    ({"amount": "NaN"}, "amount", "as a number"),
    ({"amount": "1e309"}, "amount", "too large"),
    ({"amount": "99999999999"}, "amount", "too large"),
    ({"amount": ""}, "amount", "required"),
    ({"received_on": "2026-02-30"}, "received_on", "valid date"),
    ({"received_on": (TODAY + timedelta(days=1)).isoformat()}, "received_on", "future"),
    ({"method": "bitcoin"}, "method", "valid choice"),
    ({"card_last4": "4242424242424242"}, "card_last4", "last four digits"),
    ({"card_last4": "42a2"}, "card_last4", "last four digits"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUTS)
def test_bad_input_is_answered_next_to_its_field_and_nothing_is_saved(
    login, staff_user, overrides, field, message
):
    client = SubscriberFactory()
    invoice_for(client, "40.00")
    response = login(staff_user).post(create_url(client), form_data(**overrides))
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    assert f'id="id_{field}-error"' in response.content.decode()
    assert Payment.objects.count() == 0


def _pick_cases(client, other_client):
    mine = invoice_for(client, "40.00", due_in_days=-3)
    paid = invoice_for(client, "10.00", due_in_days=-9)
    record_payment(client=client, amount="10.00", method="cash", received_on=TODAY)
    theirs = invoice_for(other_client, "40.00")
    return {
        "forged id": ({"pick_999999": "5.00"}, "Choose open invoices of this client."),
        "not a number": ({"pick_abc": "5.00"}, "Choose open invoices of this client."),
        "another client's": ({f"pick_{theirs.pk}": "5.00"}, "Choose open invoices"),
        "closed invoice": ({f"pick_{paid.pk}": "5.00"}, "Choose open invoices"),
        "three decimals": ({f"pick_{mine.pk}": "5.001"}, "at most two decimals"),
        "zero": ({f"pick_{mine.pk}": "0"}, "more than zero"),
        "negative": ({f"pick_{mine.pk}": "-5"}, "more than zero"),
        "more than the balance": ({f"pick_{mine.pk}": "40.01"}, "more than the balance"),
        "more than the payment": ({f"pick_{mine.pk}": "35.00"}, "add up to more"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "forged id",
        "not a number",
        "another client's",
        "closed invoice",
        "three decimals",
        "zero",
        "negative",
        "more than the balance",
        "more than the payment",
    ],
)
def test_bad_invoice_amounts_are_refused_with_a_message_and_nothing_saved(login, staff_user, case):
    client, other = SubscriberFactory(), SubscriberFactory()
    picks, message = _pick_cases(client, other)[case]
    before = Payment.objects.count()
    balances = list(Invoice.objects.order_by("pk").values_list("balance", flat=True))
    response = login(staff_user).post(create_url(client), form_data(amount="30.00", **picks))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["picks"])
    assert 'id="picks-error"' in response.content.decode()
    assert Payment.objects.count() == before
    assert list(Invoice.objects.order_by("pk").values_list("balance", flat=True)) == balances


def test_an_invoice_of_another_client_in_the_link_is_ignored(login, staff_user):
    client, other = SubscriberFactory(), SubscriberFactory()
    mine = invoice_for(client, "40.00")
    theirs = invoice_for(other, "50.00")
    page = login(staff_user).get(create_url(client, theirs))
    assert page.context["invoice"] is None
    login(staff_user).post(create_url(client, theirs), form_data(amount="10.00"))
    assert fresh(mine).balance == D("30.00") and fresh(theirs).balance == D("50.00")


def test_clients_cannot_record_payments(login, alice_user):
    assert login(alice_user).get(reverse("invoices:payment_create")).status_code == 403
    assert login(alice_user).get(reverse("invoices:payments")).status_code == 403


# --- List ------------------------------------------------------------------------------------
def _payments(n: int, *, client=None):
    client = client or SubscriberFactory()
    for i in range(n):
        record_payment(
            client=client,
            amount=D("10.00") + i,
            method=[PaymentMethod.CASH, PaymentMethod.CHECK][i % 2],
            received_on=TODAY - timedelta(days=i),
        )
    return client


@pytest.mark.parametrize("count", [3, 40])
def test_the_list_costs_the_same_number_of_queries_at_any_size(
    login, staff_user, django_assert_max_num_queries, count
):
    _payments(count)
    _payments(count // 3 + 1)
    browser = login(staff_user)
    for query in ({}, {"date_from": ""}):  # this month (the default), all dates
        # session, user, totals (with the count), the page
        with django_assert_max_num_queries(7):
            response = browser.get(reverse("invoices:payments"), query)
        assert response.status_code == 200
    assert response.context["totals"].count == count + count // 3 + 1
    assert response.context["page"].paginator.count == count + count // 3 + 1


def test_the_list_opens_on_this_months_payments_and_the_period_can_be_removed(login, staff_user):
    month_start = TODAY.replace(day=1)
    client = SubscriberFactory()
    for amount, day in (
        ("10.00", TODAY),
        ("20.00", month_start),
        ("40.00", month_start - timedelta(days=1)),
    ):
        record_payment(client=client, amount=amount, method="cash", received_on=day)
    browser = login(staff_user)
    url = reverse("invoices:payments")

    opened = browser.get(url)
    assert opened.context["form"]["date_from"].value() == month_start.isoformat()
    assert (opened.context["totals"].count, opened.context["totals"].amount) == (2, D("30.00"))
    html = opened.content.decode()
    assert "data-default-period" in html and "Show all dates" in html
    # Turning pages and sorting keep the period; the CSV export has the same rows.
    for query in ({"page": "1"}, {"sort": "-amount"}):
        assert browser.get(url, query).context["totals"].count == 2
    export = browser.get(reverse("invoices:payments_export") + "?" + opened.context["export_query"])
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert sorted(row[7] for row in rows[1:]) == ["10.00", "20.00"]

    # Clearing the date (what the form and "Show all dates" send), or any other filter, shows
    # every date: "all payments of this client" from the client page is not cut to a month.
    for query in ({"date_from": "", "sort": "-received_on"}, {"client": client.account_number}):
        shown = browser.get(url, query)
        assert (shown.context["totals"].count, shown.context["totals"].amount) == (3, D("70.00"))
        assert "data-default-period" not in shown.content.decode()


def test_the_list_filters_sorts_and_totals_the_filtered_set(login, staff_user):
    alice = SubscriberFactory(name="Alice Martin")
    invoice_for(alice, "15.00")
    _payments(4, client=alice)  # 10, 11, 12, 13: the 10.00 pays the invoice partly... in full
    bob = _payments(2, client=SubscriberFactory(name="Bob Nguyen"))
    browser = login(staff_user)

    by_name = browser.get(reverse("invoices:payments"), {"client": "alice"}).context
    assert by_name["totals"].count == 4
    assert by_name["totals"].amount == D("46.00")
    assert by_name["totals"].allocated == D("15.00")
    assert by_name["totals"].unallocated == D("31.00")

    cash = browser.get(reverse("invoices:payments"), {"method": "cash"}).context["totals"]
    assert (cash.count, cash.amount) == (3, D("10.00") + D("12.00") + D("10.00"))

    ranged = browser.get(
        reverse("invoices:payments"), {"min_amount": "11", "max_amount": "12.00"}
    ).context["totals"]
    assert (ranged.count, ranged.amount) == (3, D("34.00"))

    dated = browser.get(
        reverse("invoices:payments"), {"date_from": (TODAY - timedelta(days=1)).isoformat()}
    ).context["totals"]
    assert dated.count == 4  # day 0 and day 1 of each client

    sorted_page = browser.get(
        reverse("invoices:payments"), {"sort": "-amount", "date_from": ""}
    ).context["page"]
    assert [p.amount for p in sorted_page][:2] == [D("13.00"), D("12.00")]

    by_account = browser.get(reverse("invoices:payments"), {"client": bob.account_number})
    assert by_account.context["totals"].count == 2


def test_credit_filter_keeps_payments_with_unallocated_money(login, staff_user):
    client = SubscriberFactory()
    invoice_for(client, "10.00")
    record_payment(client=client, amount="10.00", method="cash", received_on=TODAY)
    with_credit = record_payment(client=client, amount="5.00", method="cash", received_on=TODAY)
    page = login(staff_user).get(reverse("invoices:payments"), {"has_credit": "on"})
    assert [p.pk for p in page.context["page"]] == [with_credit.pk]


def test_bad_filters_are_answered_next_to_the_field_not_with_an_error(login, staff_user):
    _payments(2)
    response = login(staff_user).get(
        reverse("invoices:payments"),
        {"min_amount": "5", "max_amount": "1", "date_from": "2026-02-30", "sort": "evil"},
    )
    assert response.status_code == 200
    assert "must not be below" in response.content.decode()


def test_the_csv_export_has_the_filtered_payments(login, staff_user):
    client = _payments(3)
    _payments(2)
    response = login(staff_user).get(
        reverse("invoices:payments_export"), {"client": client.account_number}
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "receipt" and len(rows) == 4
    assert {row[2] for row in rows[1:]} == {client.account_number}
    assert sorted(row[7] for row in rows[1:]) == ["10.00", "11.00", "12.00"]


# --- Payment page: refund and reversal -------------------------------------------------------
def test_the_payment_page_shows_the_amounts_and_allocations(login, staff_user):
    client = SubscriberFactory()
    invoice = invoice_for(client, "25.00")
    payment = record_payment(client=client, amount="40.00", method="cash", received_on=TODAY)
    html = login(staff_user).get(payment.get_absolute_url()).content.decode()
    assert 'data-figure="amount">$40.00<' in html
    assert 'data-figure="allocated">$25.00<' in html
    assert 'data-figure="credit">$15.00<' in html
    assert reverse("invoices:detail", args=[invoice.pk]) in html
    assert reverse("invoices:payment_receipt", args=[payment.pk]) in html


def test_staff_refund_credit_and_bad_amounts_are_refused_next_to_the_field(login, staff_user):
    client = SubscriberFactory()
    invoice_for(client, "25.00")
    payment = record_payment(client=client, amount="40.00", method="cash", received_on=TODAY)
    browser = login(staff_user)
    url = reverse("invoices:payment_refund", args=[payment.pk])

    too_much = browser.post(url, {"amount": "15.01", "reason": "Moving away"})
    assert too_much.status_code == 400
    assert "Only 15.00" in " ".join(too_much.context["refund_form"].errors["amount"])
    no_reason = browser.post(url, {"amount": "5.00", "reason": "  "})
    assert no_reason.status_code == 400 and no_reason.context["refund_form"].errors["reason"]
    three = browser.post(url, {"amount": "1.001", "reason": "x"})
    assert "two decimals" in " ".join(three.context["refund_form"].errors["amount"])
    assert Refund.objects.count() == 0

    assert browser.post(url, {"amount": "15.00", "reason": "Moving away"}).status_code == 302
    payment.refresh_from_db()
    assert (payment.amount_refunded, payment.unallocated) == (D("15.00"), D("0.00"))


def test_staff_reverse_a_payment_once_and_the_invoice_reopens(login, staff_user):
    client = SubscriberFactory()
    invoice = invoice_for(client, "25.00")
    payment = record_payment(client=client, amount="25.00", method="check", received_on=TODAY)
    browser = login(staff_user)
    url = reverse("invoices:payment_reverse", args=[payment.pk])
    assert browser.post(url, {"reason": ""}).status_code == 400
    assert browser.post(url, {"reason": "Check bounced"}).status_code == 302
    assert fresh(invoice).balance == D("25.00") and fresh(invoice).status == "issued"
    again = browser.post(url, {"reason": "Again"})
    assert again.status_code == 400
    assert "already been reversed" in again.content.decode()
    assert AuditEntry.objects.filter(action="payment.reverse").count() == 1
    assert browser.get(url).status_code == 405


# --- Admin -----------------------------------------------------------------------------------
def test_the_django_admin_shows_payments_read_only(client, admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    customer = SubscriberFactory()
    invoice_for(customer, "20.00")
    payment = record_payment(client=customer, amount="20.00", method="cash", received_on=TODAY)
    client.force_login(admin_user)
    for model in ("payment", "allocation", "refund"):
        assert client.get(reverse(f"admin:invoices_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:invoices_{model}_add")).status_code == 403
    change = reverse("admin:invoices_payment_change", args=[payment.pk])
    page = client.get(change)
    assert page.status_code == 200 and b'name="amount"' not in page.content
    delete = reverse("admin:invoices_payment_delete", args=[payment.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Payment.objects.filter(pk=payment.pk).exists()
