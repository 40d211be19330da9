"""Payment reminders: the schedule over weeks of daily runs (several a day), once per step,
none after payment, none while paused, resume, catch-up, sending by hand, concurrency."""

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from cms_project.company.models import get_company
from cms_project.messaging.models import Delivery
from staff.models import AuditEntry

from ..allocation import record_payment
from ..models import Invoice, PaymentMethod, Reminder
from ..reminders import (
    ReminderError,
    latest_due_step,
    pause_reminders,
    resume_reminders,
    send_client_reminder,
    send_manual_reminder,
    send_reminders,
)
from .factories import SubscriberFactory, issued_invoice, line

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
ISSUED = date(2026, 11, 20)
DUE = date(2026, 12, 20)


@pytest.fixture(autouse=True)
def no_pdf_rendering(monkeypatch):
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)


def at(day: date, hour: int = 8):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=CHICAGO))


def make_invoice(client=None, amount="80.00", *, issued=ISSUED, due=DUE) -> Invoice:
    client = client or SubscriberFactory(phone="+13125550101", consent_sms=True)
    with at(issued):
        invoice = issued_invoice(client=client, lines=[line(unit_price=amount)])
    Invoice.objects.filter(pk=invoice.pk).update(issue_date=issued, due_date=due)
    invoice.refresh_from_db()
    return invoice


def days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def run_every_day(first: date, last: date, runs_per_day=(6, 8, 17)) -> dict[date, list]:
    """Run send_reminders several times on each day; what each day sent."""
    sent = {}
    for day in days(first, last):
        before = set(Reminder.objects.values_list("pk", flat=True))
        for hour in runs_per_day:
            with at(day, hour):
                send_reminders()
        new = Reminder.objects.exclude(pk__in=before)
        if new:
            sent[day] = sorted(new.values_list("step", flat=True))
    return sent


def test_each_step_goes_out_exactly_once_on_its_day_over_a_month_of_runs():
    invoice = make_invoice()
    sent = run_every_day(date(2026, 12, 1), date(2027, 1, 10))
    assert sent == {
        date(2026, 12, 17): [-3],
        date(2026, 12, 20): [0],
        date(2026, 12, 27): [7],
        date(2027, 1, 3): [14],
    }
    # Email and SMS (the client consented) for each step, nothing twice.
    deliveries = Delivery.objects.filter(purpose="reminder")
    assert deliveries.filter(channel="email").count() == 4
    assert deliveries.filter(channel="sms").count() == 4
    first = deliveries.filter(channel="email").order_by("pk").first()
    assert invoice.number in first.subject and "December 20, 2026" in first.subject
    assert "$80.00" in first.body and f"/portal/invoices/{invoice.pk}/" in first.body
    assert set(Reminder.objects.values_list("channels", flat=True)) == {"email,sms"}
    assert AuditEntry.objects.filter(action="reminder.send").count() == 4


def test_no_reminder_after_the_invoice_is_paid():
    invoice = make_invoice()
    run_every_day(date(2026, 12, 15), date(2026, 12, 21))
    assert sorted(Reminder.objects.values_list("step", flat=True)) == [-3, 0]
    with at(date(2026, 12, 22)):
        record_payment(
            client=invoice.client,
            amount=D("80.00"),
            method=PaymentMethod.CASH,
            received_on=date(2026, 12, 22),
        )
    sent = run_every_day(date(2026, 12, 22), date(2027, 1, 31))
    assert sent == {}


def test_a_partial_payment_does_not_stop_reminders_and_they_show_the_balance():
    invoice = make_invoice()
    with at(date(2026, 12, 1)):
        record_payment(
            client=invoice.client,
            amount=D("30.00"),
            method=PaymentMethod.CASH,
            received_on=date(2026, 12, 1),
        )
    run_every_day(date(2026, 12, 17), date(2026, 12, 17))
    email = Delivery.objects.get(purpose="reminder", channel="email")
    assert "$50.00 is left to pay" in email.body


def test_none_while_paused_then_only_the_latest_step_after_resuming():
    invoice = make_invoice()
    with at(date(2026, 12, 10)):
        pause_reminders(client=invoice.client, until=date(2026, 12, 29), by=None)
    sent = run_every_day(date(2026, 12, 10), date(2026, 12, 28))
    assert sent == {}
    # The pause ends on the 29th: the 0 and +7 steps passed meanwhile; only +7 goes out.
    sent = run_every_day(date(2026, 12, 29), date(2027, 1, 10))
    assert sent == {date(2026, 12, 29): [7], date(2027, 1, 3): [14]}


def test_an_invoice_pause_and_an_early_resume():
    invoice = make_invoice()
    other = make_invoice(invoice.client, "20.00")
    with at(date(2026, 12, 16)):
        pause_reminders(invoice=invoice, until=date(2027, 2, 1), by=None)
    run_every_day(date(2026, 12, 16), date(2026, 12, 18))
    assert list(Reminder.objects.values_list("invoice_id", "step")) == [(other.pk, -3)]
    with at(date(2026, 12, 19)):
        resume_reminders(invoice=invoice, by=None)
    sent = run_every_day(date(2026, 12, 19), date(2026, 12, 20))
    # Resumed: the step missed while paused (-3) goes out late, once; then both get step 0.
    assert sent == {date(2026, 12, 19): [-3], date(2026, 12, 20): [0, 0]}
    assert AuditEntry.objects.filter(action="reminder.pause").count() == 1
    assert AuditEntry.objects.filter(action="reminder.resume").count() == 1


def test_missed_days_send_only_the_latest_due_step_once():
    make_invoice()
    # The server was down from the 15th to Jan 5th: one reminder (+14), not four.
    sent = run_every_day(date(2027, 1, 5), date(2027, 1, 20))
    assert sent == {date(2027, 1, 5): [14]}


def test_steps_before_the_issue_date_are_not_sent():
    make_invoice(issued=date(2026, 12, 19), due=date(2026, 12, 20))
    sent = run_every_day(date(2026, 12, 19), date(2026, 12, 21))
    assert sent == {date(2026, 12, 20): [0]}


def test_sms_only_with_consent_and_email_only_with_an_address():
    client = SubscriberFactory(email="", phone="+13125550199", consent_sms=False)
    make_invoice(client)
    run_every_day(date(2026, 12, 17), date(2026, 12, 17))
    reminder = Reminder.objects.get()
    assert reminder.channels == ""  # recorded as sent (nothing to send with): never again
    assert not Delivery.objects.exists()


def test_step_templates_and_channels_from_the_settings():
    company = get_company()
    company.reminder_schedule = [5]
    company.reminder_templates = {
        "5": {"channels": ["email"], "subject": "Pay {invoice_number} please", "body": "{days}"}
    }
    company.save()
    invoice = make_invoice()
    run_every_day(date(2026, 12, 25), date(2026, 12, 25))
    email = Delivery.objects.get()
    assert email.subject == f"Pay {invoice.number} please"
    assert email.body.strip() == "5"


def test_latest_due_step():
    schedule = [-3, 0, 7, 14]
    assert latest_due_step(schedule=schedule, due_date=DUE, issue_date=ISSUED, today=DUE) == 0
    assert latest_due_step(
        schedule=schedule, due_date=DUE, issue_date=ISSUED, today=date(2026, 12, 16)
    ) is None  # fmt: skip
    assert (
        latest_due_step(schedule=[], due_date=DUE, issue_date=ISSUED, today=date(2027, 5, 1))
        is None
    )


def test_the_management_command_runs_the_daily_collections(capsys):
    make_invoice()
    with at(date(2026, 12, 20)):
        call_command("send_reminders")
        call_command("send_reminders")
    assert "reminders sent: 1" in capsys.readouterr().out
    assert Reminder.objects.count() == 1


def test_the_beat_schedule_runs_collections_daily():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["invoices-daily-collections"]
    assert entry["task"] == "invoices.tasks.collections_daily_task"
    assert settings.CELERY_TIMEZONE == settings.TIME_ZONE


# --- By hand -------------------------------------------------------------------------------------
def test_staff_send_one_by_hand_but_not_twice_within_a_minute(staff_user):
    invoice = make_invoice()
    with at(date(2026, 12, 22), 9):
        reminder = send_manual_reminder(invoice=invoice, by=staff_user)
        assert reminder.step is None and reminder.sent_by == staff_user
        with pytest.raises(ReminderError, match="less than a minute"):
            send_client_reminder(client=invoice.client, by=staff_user)
    with time_machine.travel(datetime(2026, 12, 22, 9, 1, 30, tzinfo=CHICAGO)):
        send_client_reminder(client=invoice.client, by=staff_user)
    assert Reminder.objects.filter(step__isnull=True).count() == 2
    # A manual reminder does not use up a step.
    run_every_day(date(2026, 12, 27), date(2026, 12, 27))
    assert Reminder.objects.filter(step=7).count() == 1


def test_nothing_to_remind_about_a_paid_invoice(staff_user):
    invoice = make_invoice()
    with at(date(2026, 12, 22)):
        record_payment(
            client=invoice.client,
            amount=D("80.00"),
            method=PaymentMethod.CASH,
            received_on=date(2026, 12, 22),
        )
        with pytest.raises(ReminderError):
            send_manual_reminder(invoice=invoice, by=staff_user)
        with pytest.raises(ReminderError, match="no overdue invoice"):
            send_client_reminder(client=invoice.client, by=staff_user)
    assert not Reminder.objects.exists()


def test_pause_dates_are_checked(staff_user):
    invoice = make_invoice()
    with at(date(2026, 12, 22)):
        for bad in (date(2026, 12, 22), date(2026, 1, 1), date(2028, 1, 1), None, "2027-01-01"):
            with pytest.raises(ReminderError):
                pause_reminders(client=invoice.client, until=bad, by=staff_user)
        with pytest.raises(ReminderError, match="not paused"):
            resume_reminders(client=invoice.client, by=staff_user)
    invoice.client.refresh_from_db()
    assert invoice.client.reminders_paused_until is None


# --- Concurrency (PostgreSQL) --------------------------------------------------------------------
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_step_once():
    invoices = [make_invoice(amount=f"{10 + n}.00") for n in range(8)]
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait()
            with at(date(2026, 12, 20), 9):
                send_reminders()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Reminder.objects.count() == len(invoices)
    assert Delivery.objects.filter(purpose="reminder", channel="email").count() == len(invoices)
