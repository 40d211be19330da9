"""Late payers / aging: figures to the cent against a hand-built ledger, filters, sorting, the
CSV equal to the page, constant queries, permissions, and the reminder/pause actions."""

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import Client
from cms_project.company.models import get_company
from staff.models import AuditEntry

from .. import aging_rows
from ..aging import late_payers, late_payers_page, totals, with_clients
from ..allocation import record_payment
from ..models import ClientAging, Invoice, PaymentMethod, Reminder
from .factories import SubscriberFactory, draft_invoice, issued_invoice, line

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 4)


@pytest.fixture(autouse=True)
def no_pdf_rendering(monkeypatch):
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(datetime(2026, 12, 4, 10, tzinfo=ZoneInfo("America/Chicago"))):
        yield TODAY


def owe(client, amount: str, due: date) -> Invoice:
    invoice = issued_invoice(client=client, lines=[line(unit_price=amount)])
    Invoice.objects.filter(pk=invoice.pk).update(due_date=due)
    return invoice


@pytest.fixture
def ledger():
    """A: 100.00 not yet due, 50.00 14 days late, 30.00 45 days late of which 10.00 paid.
    B: on every bucket boundary. C: due today (not overdue). D: paid. E: a draft only."""
    a = SubscriberFactory(name="Ann Able", phone="+13125550111", segment="residential")
    b = SubscriberFactory(name="Bert Bloggs", segment="business")
    c = SubscriberFactory(name="Cy Current")
    d = SubscriberFactory(name="Dee Paid")
    e = SubscriberFactory(name="Eve Draft")
    owe(a, "100.00", date(2026, 12, 10))
    owe(a, "50.00", date(2026, 11, 20))
    owe(a, "30.00", date(2026, 10, 20))
    record_payment(client=a, amount=D("10.00"), method=PaymentMethod.CASH, received_on=TODAY)
    owe(b, "200.00", date(2026, 8, 1))  # 125 days: 90+
    owe(b, "25.25", date(2026, 9, 20))  # 75: 61-90
    owe(b, "5.00", date(2026, 11, 4))  # 30: 1-30
    owe(b, "7.00", date(2026, 11, 3))  # 31: 31-60
    owe(b, "1.10", date(2026, 9, 5))  # 90: 61-90
    owe(b, "2.20", date(2026, 9, 4))  # 91: 90+
    owe(c, "40.00", TODAY)
    owe(d, "60.00", date(2026, 11, 1))
    record_payment(client=d, amount=D("60.00"), method=PaymentMethod.CASH, received_on=TODAY)
    draft_invoice(client=e, lines=[line(unit_price="99.00")])
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def figures(client) -> dict:
    (row,) = with_clients(late_payers(today=TODAY).filter(client_id=client.pk))
    return {
        k: getattr(row, k)
        for k in ("b_current", "b_1_30", "b_31_60", "b_61_90", "b_90_plus", "overdue")
    } | {"oldest_due": row.oldest_due}


def names(rows) -> list[str]:
    return [c.name for c in with_clients(rows)]


def test_figures_to_the_cent(ledger):
    assert figures(ledger["a"]) == {
        "b_current": D("100.00"),
        "b_1_30": D("50.00"),
        "b_31_60": D("20.00"),
        "b_61_90": D("0.00"),
        "b_90_plus": D("0.00"),
        "overdue": D("70.00"),
        "oldest_due": date(2026, 10, 20),
    }
    assert figures(ledger["b"]) == {
        "b_current": D("0.00"),
        "b_1_30": D("5.00"),
        "b_31_60": D("7.00"),
        "b_61_90": D("26.35"),
        "b_90_plus": D("202.20"),
        "overdue": D("240.55"),
        "oldest_due": date(2026, 8, 1),
    }
    assert names(late_payers(today=TODAY)) == [
        "Bert Bloggs",
        "Ann Able",
    ]
    t = totals(late_payers(today=TODAY))
    assert (t.clients, t.current, t.b_1_30, t.b_31_60, t.b_61_90, t.b_90_plus, t.overdue) == (
        2, D("100.00"), D("55.00"), D("27.00"), D("26.35"), D("202.20"), D("310.55"),
    )  # fmt: skip


def test_filters(ledger):
    def found(**kw):
        return sorted(names(late_payers(today=TODAY, **kw)))

    assert found(min_amount=D("70.00")) == ["Ann Able", "Bert Bloggs"]
    assert found(min_amount=D("70.01")) == ["Bert Bloggs"]
    assert found(bucket="90_plus") == ["Bert Bloggs"]
    assert found(bucket="current") == ["Ann Able"]
    assert found(segment="business") == ["Bert Bloggs"]
    assert found(search="able") == ["Ann Able"]
    assert found(search=ledger["b"].account_number) == ["Bert Bloggs"]
    Client.objects.filter(pk=ledger["a"].pk).update(reminders_paused_until=date(2026, 12, 20))
    assert found(paused="yes") == ["Ann Able"]
    assert found(paused="no") == ["Bert Bloggs"]
    assert names(late_payers(today=TODAY, sort="name")) == ["Ann Able", "Bert Bloggs"]


def _page_rows(html: str) -> list[list[str]]:
    rows = []
    for tr in re.findall(r'<tr data-client="([^"]+)">(.*?)</tr>', html, re.S):
        cells = re.findall(r'data-figure="[^"]+">([^<]*)<', tr[1])
        rows.append([tr[0], *[c.replace("$", "").replace(",", "") for c in cells]])
    return rows


def test_page_shows_the_figures_and_totals_and_the_csv_equals_the_page(login, staff_user, ledger):
    client = login(staff_user)
    response = client.get(reverse("invoices:late_payers"))
    assert response.status_code == 200
    html = response.content.decode()
    page = _page_rows(html)
    assert page == [
        [ledger["b"].account_number, "0.00", "5.00", "7.00", "26.35", "202.20", "240.55"],
        [ledger["a"].account_number, "100.00", "50.00", "20.00", "0.00", "0.00", "70.00"],
    ]
    assert 'data-total="overdue">$310.55' in html
    assert '<span class="text-nowrap"> · (312) 555-0111</span>' in html  # Ann, national format
    export = client.get(reverse("invoices:late_payers_export"))
    assert export["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0][0] == "account"
    assert [[r[0], *r[5:11]] for r in rows[1:]] == page
    assert [r[3] for r in rows[1:]] == ["", "+13125550111"]  # the phone as stored (E.164)
    # Filters and sort apply to both alike.
    query = "?sort=name&min_amount=1"
    page = _page_rows(client.get(reverse("invoices:late_payers") + query).content.decode())
    export = client.get(reverse("invoices:late_payers_export") + query)
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [[r[0], *r[5:11]] for r in rows[1:]] == page
    assert page[0][0] == ledger["a"].account_number


def test_bad_filters_get_a_message_next_to_the_field_not_a_500(login, staff_user, ledger):
    client = login(staff_user)
    response = client.get(
        reverse("invoices:late_payers"), {"min_amount": "lots", "bucket": "x", "sort": "evil"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter an amount such as 50.00." in html
    assert "Select a valid choice" in html
    assert len(_page_rows(html)) == 2  # the other filters still apply


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_constant_number_of_queries(login, staff_user, ledger, django_assert_max_num_queries):
    client = login(staff_user)
    url = reverse("invoices:late_payers")
    client.get(url)  # the first request of a session also stores it

    small = queries_of(client, url)
    for n in range(12):
        c = SubscriberFactory(name=f"Late {n}")
        owe(c, "10.00", date(2026, 10, 1))
        owe(c, "12.00", date(2026, 11, 30))
        Reminder.objects.create(invoice=c.invoices.first(), client=c, step=7)
    assert queries_of(client, url) == small
    with django_assert_max_num_queries(small):
        client.get(url + "?sort=-b_90_plus&min_amount=5&bucket=1_30")
    # Sorted by a client column, the totals are a query of their own (see late_payers_page).
    with django_assert_max_num_queries(small + 1):
        client.get(url + "?sort=name&min_amount=5&bucket=1_30")


def test_clients_may_not_see_the_report(login, alice_user, ledger):
    client = login(alice_user)
    assert client.get(reverse("invoices:late_payers")).status_code == 403
    assert client.get(reverse("invoices:late_payers_export")).status_code == 403
    assert client.post(reverse("invoices:client_remind", args=[ledger["a"].pk])).status_code == 403


def test_send_a_reminder_from_a_row(login, staff_user, ledger):
    client = login(staff_user)
    url = reverse("invoices:late_payers")
    response = client.post(
        reverse("invoices:client_remind", args=[ledger["a"].pk]), {"next": url + "?sort=name"}
    )
    assert response.status_code == 302 and response["Location"] == url + "?sort=name"
    reminder = Reminder.objects.get()
    assert reminder.step is None and reminder.sent_by == staff_user
    assert reminder.invoice.due_date == date(2026, 10, 20)  # the oldest overdue one
    assert AuditEntry.objects.filter(action="reminder.send", actor=staff_user).exists()
    # Twice within a minute: refused with a message, nothing sent.
    response = client.post(reverse("invoices:client_remind", args=[ledger["a"].pk]), follow=True)
    assert "less than a minute ago" in response.content.decode()
    assert Reminder.objects.count() == 1
    # A hostile next goes to the client page instead.
    response = client.post(
        reverse("invoices:client_remind", args=[ledger["b"].pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("clients:client_detail", args=[ledger["b"].pk])
    # The page shows it.
    assert "Last Dec 4, 2026" in client.get(url).content.decode()


def test_pause_a_client_from_a_row_and_resume(login, staff_user, ledger):
    client = login(staff_user)
    url = reverse("invoices:client_reminders_pause", args=[ledger["a"].pk])
    response = client.post(url, {"until": "2026-12-31", "next": "/staff/invoices/late-payers/"})
    assert response.status_code == 302
    ledger["a"].refresh_from_db()
    assert ledger["a"].reminders_paused_until == date(2026, 12, 31)
    html = client.get(reverse("invoices:late_payers")).content.decode()
    assert "Paused until Dec 31, 2026" in html
    response = client.post(reverse("invoices:client_reminders_resume", args=[ledger["a"].pk]))
    ledger["a"].refresh_from_db()
    assert ledger["a"].reminders_paused_until is None
    actions = list(AuditEntry.objects.values_list("action", flat=True).order_by("pk"))
    assert actions[-2:] == ["reminder.pause", "reminder.resume"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Enter the date reminders should start again."),
        ("2026-02-30", "Enter a date such as 2027-01-15."),
        ("yesterday", "Enter a date such as 2027-01-15."),
        ("2026-12-04", "Choose a date after today."),
        ("2030-01-01", "Pause for at most a year."),
    ],
)
def test_bad_pause_dates_get_a_message_next_to_the_field(login, staff_user, ledger, value, message):
    client = login(staff_user)
    invoice = ledger["a"].invoices.first()
    for url in (
        reverse("invoices:client_reminders_pause", args=[ledger["a"].pk]),
        reverse("invoices:reminders_pause", args=[invoice.pk]),
    ):
        response = client.post(url, {"until": value})
        assert response.status_code == 400
        assert message in response.content.decode()
    ledger["a"].refresh_from_db()
    invoice.refresh_from_db()
    assert ledger["a"].reminders_paused_until is None and invoice.reminders_paused_until is None


def test_invoice_page_sends_pauses_and_lists_reminders(login, staff_user, ledger):
    client = login(staff_user)
    invoice = ledger["b"].invoices.order_by("due_date").first()
    client.post(reverse("invoices:remind", args=[invoice.pk]))
    client.post(reverse("invoices:reminders_pause", args=[invoice.pk]), {"until": "2027-01-15"})
    invoice.refresh_from_db()
    assert invoice.reminders_paused_until == date(2027, 1, 15)
    html = client.get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    assert "sent by hand by Sam Staff" in html
    assert "Paused until <strong>Jan 15, 2027</strong>" in html


def test_client_page_shows_reminders_pause_and_suspension(
    login, staff_user, ledger, django_assert_max_num_queries
):
    from ..credit_notes import create_credit_note
    from ..models import NonPaymentSuspension

    client = login(staff_user)
    client.post(reverse("invoices:client_remind", args=[ledger["b"].pk]))
    NonPaymentSuspension.objects.create(
        client=ledger["b"], overdue_amount=D("240.55"), subscriptions=2
    )
    credited = ledger["d"].invoices.get()
    note = create_credit_note(invoice=credited, reason="Outage", line_ids=[credited.lines.get().pk])
    # Reminders and credit notes show their invoice's number and the sender's name from the
    # columns their queries select (no query per row): the page's bound holds.
    with django_assert_max_num_queries(14):
        html = client.get(reverse("clients:client_detail", args=[ledger["b"].pk])).content
    html = html.decode()
    assert "Suspended for non-payment since Dec 4, 2026" in html
    assert "Overdue balance <strong>$240.55</strong>" in html
    assert "sent by hand by Sam Staff" in html
    with django_assert_max_num_queries(14):
        html = client.get(reverse("clients:client_detail", args=[ledger["d"].pk])).content
    assert f">{note.number}</a> for {credited.number}" in html.decode()


def test_admins_edit_reminder_texts_with_validation(login, admin_user, staff_user):
    company = get_company()
    url = reverse("company:reminders")
    assert login(staff_user).get(url).status_code == 403
    client = login(admin_user)
    assert client.get(url).status_code == 200
    data = {}
    for step in company.reminder_schedule:
        data |= {
            f"step{step}-channels": ["email"],
            f"step{step}-subject": "Invoice {invoice_number}",
            f"step{step}-body": "Pay {balance} by {due_date}: {pay_url}",
            f"step{step}-sms": "Pay {balance}",
        }
    bad = data | {"step7-subject": "Hi {name.__class__}", "step0-channels": [], "step14-sms": "{"}
    response = client.post(url, bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Unknown placeholder" in html
    assert "Choose at least one channel." in html
    assert "A brace is not closed" in html
    company.refresh_from_db()
    assert company.reminder_templates == {}
    response = client.post(url, data)
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.reminder_templates["7"]["channels"] == ["email"]
    assert AuditEntry.objects.filter(action="company.settings_change").exists()


def test_settings_refuse_a_bad_schedule(login, admin_user):
    client = login(admin_user)
    company = get_company()
    base = {
        "name": company.name,
        "address": company.address,
        "default_tax_rate": "8.25",
        "currency": "USD",
        "payment_terms_days": "30",
        "invoice_prefix": "INV",
        "credit_note_prefix": "CN",
    }
    for value, message in [
        ("-3, 0, x", "Enter whole numbers of days"),
        ("-61, 0", "between -60 and 365"),
        ("7, 7", "only once"),
    ]:
        response = client.post(reverse("company:settings"), base | {"reminder_schedule": value})
        assert message in response.content.decode()
    response = client.post(
        reverse("company:settings"), base | {"reminder_schedule": "0", "suspend_after_days": "0"}
    )
    assert "greater than or equal to 1" in response.content.decode()


def test_the_same_buckets_as_the_client_statement(ledger):
    from ..statement import client_aging

    for key in ("a", "b"):
        aging = client_aging(ledger[key], today=TODAY)
        row = figures(ledger[key])
        assert (
            aging.current,
            aging.days_1_30,
            aging.days_31_60,
            aging.days_61_90,
            aging.days_90_plus,
        ) == (row["b_current"], row["b_1_30"], row["b_31_60"], row["b_61_90"], row["b_90_plus"])


def test_a_page_and_its_totals_come_from_one_query_and_match_the_totals_row(
    ledger, django_assert_num_queries
):
    rows = late_payers(today=TODAY)
    expected = totals(rows)
    with django_assert_num_queries(3):  # the grouped rows with totals, their clients, reminders
        page, summary = late_payers_page(rows, "1", per_page=1)
    assert summary == expected
    assert [c.name for c in page] == ["Bert Bloggs"]
    assert (page.paginator.count, page.paginator.num_pages, page.has_next()) == (2, 2, True)
    # Like Paginator.get_page: not a number -> the first page, past the end -> the last.
    assert late_payers_page(rows, "x", per_page=1)[0].number == 1
    last, last_totals = late_payers_page(rows, "99", per_page=1)
    assert (last.number, [c.name for c in last], last_totals) == (2, ["Ann Able"], expected)
    empty, nothing = late_payers_page(rows.filter(client_id=0), "1", per_page=50)
    assert (list(empty), nothing.clients, nothing.overdue) == ([], 0, D("0.00"))
    # Sorted by a client column, the totals are a query of their own (the same figures).
    by_name = late_payers(today=TODAY, sort="name")
    with django_assert_num_queries(4):
        page, summary = late_payers_page(by_name, "2", per_page=1)
    assert (summary, [c.name for c in page]) == (expected, ["Bert Bloggs"])


# --- The kept aging rows (aging_rows.py) ---------------------------------------------------
SORT_KEYS = ["-overdue", "overdue", "oldest_due", "-oldest_due", "name", "-name",
             "last_payment", "-last_payment", "b_90_plus", "-b_90_plus"]  # fmt: skip


def rows_of(**kw) -> list[dict]:
    return list(late_payers(today=TODAY, from_rows=True, **kw))


def test_rows_rebuilt_for_today_say_what_ageing_the_invoices_says(ledger):
    assert aging_rows.snapshot_day() is None
    assert aging_rows.rebuild(TODAY) == 2
    assert aging_rows.are_current(TODAY)
    assert aging_rows.differences(TODAY) == []
    (b,) = rows_of(search="bloggs")
    assert b == {
        "client_id": ledger["b"].pk,
        "b_current": D("0.00"), "b_1_30": D("5.00"), "b_31_60": D("7.00"),
        "b_61_90": D("26.35"), "b_90_plus": D("202.20"), "overdue": D("240.55"),
        "oldest_due": date(2026, 8, 1),
    }  # fmt: skip
    Client.objects.filter(pk=ledger["a"].pk).update(reminders_paused_until=date(2026, 12, 20))
    for kw in [
        *({"sort": key} for key in SORT_KEYS),
        {"min_amount": D("70.01")},
        {"bucket": "current"},
        {"bucket": "90_plus"},
        {"segment": "business"},
        {"search": "able"},
        {"paused": "yes"},
        {"paused": "no"},
    ]:
        assert rows_of(**kw) == list(late_payers(today=TODAY, **kw)), kw
    assert totals(late_payers(today=TODAY, from_rows=True)) == totals(late_payers(today=TODAY))


def test_every_writer_of_a_balance_refreshes_its_clients_row(ledger, staff_user):
    from ..allocation import apply_client_credit, reverse_payment
    from ..credit_notes import create_credit_note, void_invoice
    from ..issuing import issue_invoice

    aging_rows.rebuild(TODAY)
    a, b, c, d = ledger["a"], ledger["b"], ledger["c"], ledger["d"]

    def overdue(client):
        return {r["client_id"]: r["overdue"] for r in rows_of()}.get(client.pk)

    payment = record_payment(
        client=b, amount=D("200.00"), method=PaymentMethod.CASH, received_on=TODAY
    )
    assert overdue(b) == D("40.55")  # oldest due first: the 200.00 of Aug 1
    assert aging_rows.differences(TODAY) == []
    reverse_payment(payment=payment, reason="Bounced check", by=staff_user)
    assert overdue(b) == D("240.55")
    assert aging_rows.differences(TODAY) == []
    note = create_credit_note(
        invoice=b.invoices.get(total=D("25.25")), reason="Outage", created_by=staff_user
    )
    assert note.amount_applied == D("25.25") and overdue(b) == D("215.30")
    void_invoice(invoice=b.invoices.get(total=D("200.00")), reason="Error", created_by=staff_user)
    assert overdue(b) == D("15.30")
    assert aging_rows.differences(TODAY) == []
    # Paid in full, a leaves the list; an invoice issued to b counts as current at once.
    record_payment(client=a, amount=D("170.00"), method=PaymentMethod.CASH, received_on=TODAY)
    assert overdue(a) is None
    issue_invoice(invoice=draft_invoice(client=b, lines=[line(unit_price="5.00")]))
    assert rows_of(segment="business")[0]["b_current"] == D("5.00")
    # A credit note on d's paid invoice is credit, applied at once to d's overdue 25.00.
    paid = d.invoices.get()
    owe(d, "25.00", date(2026, 11, 1))
    aging_rows.refresh([d.pk])  # owe() moved the due date behind the ledger's back
    assert overdue(d) == D("25.00")
    create_credit_note(invoice=paid, reason="Goodwill", created_by=staff_user)
    assert overdue(d) is None
    assert apply_client_credit(client=d) == D("0.00")
    # c, not overdue, gets no row; a payment by a client who is not late changes nothing.
    record_payment(client=c, amount=D("1.00"), method=PaymentMethod.CASH, received_on=TODAY)
    assert overdue(c) is None
    assert aging_rows.differences(TODAY) == []


def test_a_billing_run_refreshes_the_rows_of_its_clients(ledger):
    from ..billing import run_billing
    from .factories import ServiceFactory, SubscriberLocationFactory, SubscriptionFactory

    aging_rows.rebuild(TODAY)
    location = SubscriberLocationFactory(client=ledger["b"])
    SubscriptionFactory(
        service=ServiceFactory(price=D("60.00"), tax_rate=D("0")),
        location=location,
        start_date=date(2026, 1, 1),
    )
    run_billing(year=2026, month=11, notify=False)
    (b,) = rows_of(segment="business")
    assert (b["b_current"], b["overdue"]) == (D("60.00"), D("240.55"))
    assert aging_rows.differences(TODAY) == []


def test_rows_of_another_day_are_not_read_and_the_report_asks_for_todays(
    login, staff_user, ledger, django_capture_on_commit_callbacks
):
    aging_rows.rebuild(date(2026, 12, 3))
    ClientAging.objects.update(overdue=D("999.99"))  # yesterday's rows must not show
    client = login(staff_user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        html = client.get(reverse("invoices:late_payers")).content.decode()
        client.get(reverse("invoices:late_payers"))  # asked once, not per request
    assert len(callbacks) == 1
    assert "999.99" not in html and 'data-total="overdue">$310.55' in html
    assert aging_rows.snapshot_day() == TODAY  # the queue (eager here) rebuilt them
    assert aging_rows.differences(TODAY) == []


def test_the_page_reads_todays_rows_without_grouping_the_invoices(login, staff_user, ledger):
    aging_rows.rebuild(TODAY)
    client = login(staff_user)
    client.get(reverse("invoices:late_payers"))
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(reverse("invoices:late_payers")).content.decode()
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "invoices_clientaging" in sql and "GROUP BY" not in sql.split("invoices_reminder")[0]
    assert _page_rows(html)[0] == [
        ledger["b"].account_number, "0.00", "5.00", "7.00", "26.35", "202.20", "240.55",
    ]  # fmt: skip
    assert 'data-total="overdue">$310.55' in html


@pytest.mark.parametrize("from_rows", [False, True], ids=["aged", "kept rows"])
def test_the_csv_equals_the_page_either_way(login, staff_user, ledger, from_rows):
    if from_rows:
        aging_rows.rebuild(TODAY)
    client = login(staff_user)
    for query in ("", "?sort=name&min_amount=1", "?sort=-b_90_plus&bucket=1_30"):
        page = _page_rows(client.get(reverse("invoices:late_payers") + query).content.decode())
        export = client.get(reverse("invoices:late_payers_export") + query)
        rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
        assert [[r[0], *r[5:11]] for r in rows[1:]] == page and page


def test_the_daily_collections_run_ages_the_rows_for_its_day(ledger):
    from ..collections import run_collections

    assert run_collections(today=TODAY)["late_payers"] == 2
    assert aging_rows.snapshot_day() == TODAY and aging_rows.differences(TODAY) == []


def test_the_check_command_finds_aging_rows_that_went_wrong_and_a_rebuild_mends_them(ledger):
    from django.core.management import CommandError, call_command

    aging_rows.rebuild(TODAY)
    call_command("rebuild_totals", "--check", stdout=io.StringIO())
    ClientAging.objects.filter(client=ledger["b"]).update(b_1_30=D("5.01"))
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 kept totals differ"):
        call_command("rebuild_totals", "--check", stdout=out)
    assert f"late payers client {ledger['b'].pk}" in out.getvalue()
    call_command("rebuild_totals", stdout=io.StringIO())
    assert aging_rows.differences(TODAY) == []


def test_from_todays_rows_the_page_keeps_a_constant_number_of_queries(
    login, staff_user, ledger, django_assert_max_num_queries
):
    aging_rows.rebuild(TODAY)
    client = login(staff_user)
    url = reverse("invoices:late_payers")
    client.get(url)

    small = queries_of(client, url)
    for n in range(12):
        c = SubscriberFactory(name=f"Late {n}", phone=f"+1312555{n:04d}")
        invoice = owe(c, "10.00", date(2026, 10, 1))
        Reminder.objects.create(invoice=invoice, client=c, step=7)
    aging_rows.rebuild(TODAY)  # owe() moves due dates behind the ledger's back
    assert queries_of(client, url) == small
    html = client.get(url).content.decode()
    assert html.count("<tr data-client=") == 14 and "Last Dec 4, 2026" in html
    with django_assert_max_num_queries(small + 1):  # sorted by name: the totals apart
        client.get(url + "?sort=name&bucket=31_60")
