"""Overdue reminders (dunning): the schedule, sending by email/SMS, sending by hand, pauses.

The schedule (company settings) is a list of days relative to the due date, e.g. -3, 0, 7, 14.
Each (invoice, step) goes out at most once: the `Reminder` row is inserted first, in the
transaction that queues the messages, and its unique constraint refuses a second one — so
`send_reminders` may run any number of times a day, on any number of workers at once.

Decisions (docs/collections.md):
- Catch-up: a run sends, for each invoice, only the *latest* step whose day has come. Steps
  missed while the server was down (or while reminders were paused) are not sent one after
  the other; the client gets one reminder, the one that fits the day, and the earlier steps
  are never sent afterwards.
- A step whose day came before the invoice was issued is not sent (an invoice issued two days
  before its due date does not get the "3 days before" reminder the day after).
- Nothing goes out for an invoice that is paid, void, has no balance, or whose client's or
  own pause date is still in the future (paused until D: reminders start again on day D).
- Channels: the step's channels, each by the client's preference — email if the client has an
  address, SMS only with SMS consent (as invoices/sending.py).
"""

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q, Subquery
from django.utils import timezone

from clients.models import Client
from cms_project.company.models import CompanySettings, get_company
from cms_project.company.reminder_templates import (
    PLACEHOLDER_PATTERN,
    StepTemplate,
    step_template,
)
from cms_project.messaging.sending import queue_email, queue_sms
from cms_project.money import CENT, format_money
from staff.audit import record

from .models import Invoice, Reminder
from .sending import can_sms, portal_link

PURPOSE = "reminder"
MANUAL_INTERVAL = timedelta(minutes=1)  # staff cannot send two by hand within a minute
MAX_PAUSE_DAYS = 365


class ReminderError(Exception):
    """A reminder that cannot be sent, or a pause that cannot be set; `field` names the form
    field the message belongs next to."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- Templates ---------------------------------------------------------------------------------
def render(text: str, context: dict[str, str]) -> str:
    # Plain substitution, not str.format: a template must never reach attributes or pad to
    # a huge width ("{balance:>99999999}").
    return PLACEHOLDER_PATTERN.sub(lambda m: context.get(m.group(1), m.group(0)), text)


def _context(invoice: Invoice, today: date) -> dict[str, str]:
    return {
        "client_name": invoice.client_name or invoice.client.display_name,
        "invoice_number": invoice.number,
        "total": format_money(invoice.total, invoice.currency or None),
        "balance": format_money(invoice.balance, invoice.currency or None),
        "due_date": invoice.due_date.strftime("%B %-d, %Y") if invoice.due_date else "",
        "days": str(abs((today - invoice.due_date).days)) if invoice.due_date else "",
        "pay_url": portal_link(invoice),
        "company_name": invoice.company_name or get_company().name,
    }


# --- The schedule ------------------------------------------------------------------------------
def schedule_of(company: CompanySettings) -> list[int]:
    return sorted({int(day) for day in company.reminder_schedule or []})


def latest_due_step(
    *, schedule: list[int], due_date: date, issue_date: date | None, today: date
) -> int | None:
    """The latest step whose day has come (and came after the invoice was issued)."""
    due = [
        step
        for step in schedule
        if due_date + timedelta(days=step) <= today
        and (issue_date is None or due_date + timedelta(days=step) >= issue_date)
    ]
    return max(due) if due else None


def _paused(until: date | None, today: date) -> bool:
    return until is not None and until > today


def _not_paused(today: date) -> Q:
    return (Q(reminders_paused_until__isnull=True) | Q(reminders_paused_until__lte=today)) & (
        Q(client__reminders_paused_until__isnull=True)
        | Q(client__reminders_paused_until__lte=today)
    )


def candidates(*, today: date, schedule: list[int]):
    """Open invoices that owe, are not paused and may have a step due: (id, due_date,
    issue_date, last step sent). One query, streamed."""
    if not schedule:
        return Invoice.objects.none()
    last_step = (
        Reminder.objects.filter(invoice=OuterRef("pk"), step__isnull=False)
        .order_by()
        .values("invoice")
        .annotate(m=Max("step"))
        .values("m")
    )
    return (
        Invoice.objects.open()
        .filter(balance__gte=CENT, due_date__isnull=False)
        .filter(due_date__lte=today - timedelta(days=schedule[0]))
        .filter(_not_paused(today))
        # Every step sent already (NOT EXISTS: an exclude() on the NULL-able max would drop
        # the invoices with no reminder at all).
        .filter(~Exists(Reminder.objects.filter(invoice=OuterRef("pk"), step__gte=schedule[-1])))
        .annotate(last_step=Subquery(last_step))
        .order_by("due_date", "pk")
        .values_list("pk", "due_date", "issue_date", "last_step")
    )


def send_reminders(*, today: date | None = None) -> int:
    """Send every step that is due today (company time). Returns how many were sent."""
    today = today or timezone.localdate()
    company = get_company()
    schedule = schedule_of(company)
    sent = 0
    for pk, due_date, issue_date, last_step in candidates(today=today, schedule=schedule).iterator(
        chunk_size=2000
    ):
        step = latest_due_step(
            schedule=schedule, due_date=due_date, issue_date=issue_date, today=today
        )
        if step is None or (last_step is not None and last_step >= step):
            continue
        if send_step(invoice_id=pk, step=step, today=today, company=company) is not None:
            sent += 1
    return sent


def _channels_for(client: Client, wanted: tuple[str, ...]) -> list[str]:
    channels = []
    if "email" in wanted and client.email:
        channels.append("email")
    if "sms" in wanted and can_sms(client):
        channels.append("sms")
    return channels


def _queue(reminder: Reminder, invoice: Invoice, template: StepTemplate, today: date) -> list:
    """Queue the messages of a reminder row; returns the channels actually queued."""
    context = _context(invoice, today)
    client = invoice.client
    queued = []
    for channel in _channels_for(client, template.channels):
        if channel == "email":
            try:
                delivery = queue_email(
                    to=[client.email],
                    subject=render(template.subject, context),
                    body=render(template.body, context) + "\n",
                    purpose=PURPOSE,
                    related=invoice,
                    dedupe_key=f"reminder:{reminder.pk}:email",
                )
            except ValueError:
                delivery = None  # an unusable address on file: the SMS may still go
        else:
            delivery = queue_sms(
                to=str(client.phone),
                body=" ".join(render(template.sms, context).split()),
                purpose=PURPOSE,
                related=invoice,
                dedupe_key=f"reminder:{reminder.pk}:sms",
            )
        if delivery is not None:
            if reminder.sent_by_id:
                delivery.requested_by_id = reminder.sent_by_id
                delivery.save(update_fields=["requested_by"])
            queued.append(channel)
    return queued


def _lock_invoice(invoice_id: int) -> Invoice | None:
    """Lock the client row, then the invoice: the order payments lock them in (allocation.py),
    so a reminder and a payment for the same client wait for each other and cannot deadlock
    (the Reminder insert needs a key-share lock on the client row)."""
    client_id = Invoice.objects.filter(pk=invoice_id).values_list("client_id", flat=True).first()
    if client_id is None:
        return None
    Client.objects.select_for_update().filter(pk=client_id).values_list("pk").first()
    return (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("client")
        .filter(pk=invoice_id)
        .first()
    )


def _can_remind(invoice: Invoice) -> bool:
    return invoice.is_open and invoice.balance is not None and invoice.balance >= CENT


@transaction.atomic
def send_step(
    *, invoice_id: int, step: int, today: date, company: CompanySettings | None = None
) -> Reminder | None:
    """Send one scheduled step, or nothing if it was sent already, the invoice no longer owes
    or is paused. The row first: a concurrent run's identical insert fails and skips."""
    invoice = _lock_invoice(invoice_id)
    if invoice is None or not _can_remind(invoice):
        return None  # paid (or voided) since the candidates were read
    if _paused(invoice.reminders_paused_until, today) or _paused(
        invoice.client.reminders_paused_until, today
    ):
        return None
    try:
        with transaction.atomic():
            reminder = Reminder.objects.create(
                invoice=invoice, client_id=invoice.client_id, step=step
            )
    except IntegrityError:
        return None  # already sent (by this run's twin or an earlier one)
    template = step_template(company or get_company(), step)
    reminder.channels = ",".join(_queue(reminder, invoice, template, today))
    reminder.save(update_fields=["channels"])
    record(
        actor=None,
        action="reminder.send",
        obj=invoice,
        changes={"step": [None, step], "channels": [None, reminder.channels]},
    )
    return reminder


# --- By hand -----------------------------------------------------------------------------------
@transaction.atomic
def send_manual_reminder(*, invoice: Invoice, by, request=None) -> Reminder:
    """A reminder staff send from a page: step None, any time, but not twice a minute."""
    locked = _lock_invoice(invoice.pk)
    if locked is None or not _can_remind(locked):
        raise ReminderError(f"Invoice {invoice} has nothing left to pay: no reminder to send.")
    now = timezone.now()
    recent = Reminder.objects.filter(
        client_id=locked.client_id, step__isnull=True, sent_at__gt=now - MANUAL_INTERVAL
    ).exists()
    if recent:
        raise ReminderError(
            "A reminder was sent by hand to this client less than a minute ago; wait a moment."
        )
    today = timezone.localdate()
    company = get_company()
    schedule = schedule_of(company)
    # The text of the step that fits the day (the first step's if none has come yet).
    step = (
        latest_due_step(schedule=schedule, due_date=locked.due_date, issue_date=None, today=today)
        if locked.due_date
        else None
    )
    template = step_template(company, step if step is not None else (schedule or [1])[0])
    reminder = Reminder.objects.create(
        invoice=locked, client_id=locked.client_id, step=None, sent_at=now, sent_by=by
    )
    channels = _queue(reminder, locked, template, today)
    if not channels:
        raise ReminderError(
            "This client has no email address and no SMS consent: nothing could be sent."
        )
    reminder.channels = ",".join(channels)
    reminder.save(update_fields=["channels"])
    record(
        actor=by,
        action="reminder.send",
        obj=locked,
        changes={"step": [None, "manual"], "channels": [None, reminder.channels]},
        request=request,
    )
    return reminder


def oldest_overdue_invoice(client: Client, today: date | None = None) -> Invoice | None:
    today = today or timezone.localdate()
    return (
        Invoice.objects.overdue(today)
        .filter(client=client)
        .order_by("due_date", "pk")
        .select_related("client")
        .first()
    )


def send_client_reminder(*, client: Client, by, request=None) -> Reminder:
    """From the late payers list or the client page: a reminder about the client's oldest
    overdue invoice (the one their oldest due date is about)."""
    invoice = oldest_overdue_invoice(client)
    if invoice is None:
        raise ReminderError(f"{client.display_name} has no overdue invoice.")
    return send_manual_reminder(invoice=invoice, by=by, request=request)


# --- Pauses --------------------------------------------------------------------------------------
def _clean_until(until, today: date) -> date:
    if not isinstance(until, date):
        raise ReminderError("Enter the date reminders should start again.", field="until")
    if until <= today:
        raise ReminderError("Choose a date after today.", field="until")
    if until > today + timedelta(days=MAX_PAUSE_DAYS):
        raise ReminderError("Pause for at most a year.", field="until")
    return until


@transaction.atomic
def pause_reminders(
    *, until: date, by, client: Client | None = None, invoice: Invoice | None = None, request=None
) -> date:
    """A promise to pay: no reminder (and no suspension) before `until`, for a whole client or
    one invoice."""
    if (client is None) == (invoice is None):
        raise ValueError("Pause a client or an invoice.")
    until = _clean_until(until, timezone.localdate())
    if client is not None:
        locked = Client.objects.select_for_update().get(pk=client.pk)
        before = locked.reminders_paused_until
        Client.objects.filter(pk=locked.pk).update(reminders_paused_until=until)
        client.reminders_paused_until = until
        obj = locked
    else:
        locked = _lock_invoice(invoice.pk)
        if locked.is_draft:
            raise ReminderError("A draft gets no reminders.")
        before = locked.reminders_paused_until
        locked.reminders_paused_until = until
        locked.save(update_fields=["reminders_paused_until"])
        invoice.reminders_paused_until = until
        obj = locked
    record(
        actor=by,
        action="reminder.pause",
        obj=obj,
        changes={"reminders_paused_until": [before, until]},
        request=request,
    )
    return until


@transaction.atomic
def resume_reminders(
    *, by, client: Client | None = None, invoice: Invoice | None = None, request=None
) -> None:
    if (client is None) == (invoice is None):
        raise ValueError("Resume a client or an invoice.")
    if client is not None:
        locked = Client.objects.select_for_update().get(pk=client.pk)
        before = locked.reminders_paused_until
        Client.objects.filter(pk=locked.pk).update(reminders_paused_until=None)
        client.reminders_paused_until = None
        obj = locked
    else:
        locked = _lock_invoice(invoice.pk)
        before = locked.reminders_paused_until
        locked.reminders_paused_until = None
        locked.save(update_fields=["reminders_paused_until"])
        invoice.reminders_paused_until = None
        obj = locked
    if before is None:
        raise ReminderError("Reminders are not paused.")
    record(
        actor=by,
        action="reminder.resume",
        obj=obj,
        changes={"reminders_paused_until": [before, None]},
        request=request,
    )


# --- Reads for pages ---------------------------------------------------------------------------
def reminders_of_invoice(invoice: Invoice):
    return invoice.reminders.select_related("sent_by").order_by("-sent_at", "-pk")


def reminders_of_client(client: Client, limit: int = 20):
    """The client page's list: each reminder with its invoice's number and who sent it (only
    those columns of the two: compiling all of theirs cost more than running the query)."""
    return (
        Reminder.objects.filter(client=client)
        .select_related("invoice", "sent_by")
        .only(
            "client_id",
            "step",
            "channels",
            "sent_at",
            "invoice__number",
            "sent_by__first_name",
            "sent_by__last_name",
            "sent_by__email",
        )
        .order_by("-sent_at", "-pk")[:limit]
    )
