"""Invoices, their lines, credit notes, number counters and billing runs (GUIDE §2).

What the database guarantees, not only the code:
- at most one billing-run invoice per client and period (partial unique constraint);
- invoice and credit-note numbers are unique; a counter row per (series, year);
- an invoice line is credited at most once;
- amounts paid and credited are never negative.

Immutability: an issued invoice (or any credit note) is a legal document. `save()` refuses
to write anything but the payment/status/PDF fields of an issued invoice, `delete()` refuses
outright, and so do the invoice lines of an issued invoice and the queryset `delete()`. The
views and the Django admin refuse too; `issuing.py` is the only way from draft to issued.
"""

import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from cms_project.money import ZERO


class ImmutableInvoiceError(Exception):
    """Something tried to change or delete an issued invoice, its lines or a credit note."""


MONEY = {"max_digits": 12, "decimal_places": 2}


# --- Numbering -------------------------------------------------------------------------------
class NumberCounter(models.Model):
    """The last number handed out in a series (prefix) for a year: `INV` 2026 -> 41 means the
    next invoice is INV-2026-000042. The row is locked with select_for_update() in the issuing
    transaction, so a rolled-back issue gives its number back: numbers stay dense."""

    series = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="number_counter_series_year")
        ]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: last {self.last_number}"


# --- Invoices --------------------------------------------------------------------------------
class InvoiceQuerySet(models.QuerySet):
    def issued(self):
        """Everything a client may see: issued, paid, partially paid or void (not drafts)."""
        return self.exclude(status=Invoice.Status.DRAFT)

    def open(self):
        """Issued documents that can still be paid."""
        return self.filter(status__in=Invoice.OPEN_STATUSES)

    def overdue(self, today: date | None = None):
        today = today or timezone.localdate()
        return self.open().filter(balance__gt=0, due_date__lt=today)

    def delete(self):
        # A queryset delete never calls Model.delete(): refuse here as well, or a bulk
        # delete in a shell or admin action could wipe issued invoices.
        if self.exclude(status=Invoice.Status.DRAFT).exists():
            raise ImmutableInvoiceError("Issued invoices can never be deleted.")
        return super().delete()


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"
        PARTIALLY_PAID = "partially_paid", "Partially paid"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    OPEN_STATUSES = (Status.ISSUED, Status.PARTIALLY_PAID)

    class Source(models.TextChoices):
        BILLING_RUN = "billing_run", "Billing run"
        MANUAL = "manual", "Manual"

    # Fields that change after issue: payments, credit notes, and the PDF being rendered.
    MUTABLE_WHEN_ISSUED = frozenset(
        {
            "status",
            "amount_paid",
            "amount_credited",
            "credited_total",
            "pdf_rendered_at",
            "reminders_paused_until",
        }
    )

    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="invoices"
    )  # PROTECT: a client with invoices is archived, never deleted (GUIDE §2)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANUAL)
    period_year = models.PositiveSmallIntegerField(null=True, blank=True)
    period_month = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    billing_run = models.ForeignKey(
        "BillingRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices"
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    number = models.CharField(max_length=32, blank=True, default="")
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="")
    notes = models.TextField(blank=True, help_text="Printed on the invoice.")

    # Copied at issue: what the document shows must not change when the client or the
    # company settings do.
    client_name = models.CharField(max_length=200, blank=True)
    client_account_number = models.CharField(max_length=20, blank=True)
    billing_address = models.TextField(blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    company_address = models.TextField(blank=True)
    company_tax_id = models.CharField(max_length=50, blank=True)
    company_email = models.CharField(max_length=254, blank=True)
    company_phone = models.CharField(max_length=32, blank=True)
    company_logo = models.CharField(max_length=255, blank=True)  # name in default_storage
    payment_instructions = models.TextField(blank=True)
    portal_url = models.CharField(max_length=500, blank=True)

    # Figures: kept current on drafts, frozen at issue (all from cms_project.money).
    net = models.DecimalField(**MONEY, default=ZERO)
    tax = models.DecimalField(**MONEY, default=ZERO)
    total = models.DecimalField(**MONEY, default=ZERO)
    tax_breakdown = models.JSONField(default=list, blank=True)  # [{rate, net, tax}] as strings
    amount_paid = models.DecimalField(**MONEY, default=ZERO)
    # The part of credit notes that reduced this invoice's balance (the rest became credit).
    amount_credited = models.DecimalField(**MONEY, default=ZERO)
    # Sum of the totals of credit notes against this invoice: equal to `total` = cancelled.
    credited_total = models.DecimalField(**MONEY, default=ZERO)
    balance = models.GeneratedField(
        expression=F("total") - F("amount_paid") - F("amount_credited"),
        output_field=models.DecimalField(**MONEY),
        db_persist=True,
    )

    # Unguessable storage name, chosen at issue; the file is rendered after commit.
    pdf_path = models.CharField(max_length=255, blank=True)
    pdf_rendered_at = models.DateTimeField(null=True, blank=True)
    # A promise to pay: no reminder for this invoice before this date.
    reminders_paused_until = models.DateField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-pk"]
        indexes = [
            models.Index(fields=["client", "status"]),
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["period_year", "period_month"]),
            # The staff list's default order (newest first): without it every page of the
            # list sorts the whole table (1.5 s at 300,000 invoices).
            models.Index(fields=["-issue_date", "-id"], name="invoice_issue_date_id_idx"),
            # Late payers / aging and send_reminders read only open invoices that still owe.
            models.Index(
                # balance as a key column, not INCLUDE: SQLite has no INCLUDE (check W040).
                fields=["client", "due_date", "balance"],
                condition=Q(status__in=["issued", "partially_paid"]) & Q(balance__gt=0),
                name="invoice_open_owing_idx",
            ),
        ]
        constraints = [
            # GUIDE §2: a billing run produces at most one invoice per client per period,
            # enforced by the database so that two concurrent runs cannot both insert one.
            models.UniqueConstraint(
                fields=["client", "period_year", "period_month"],
                condition=Q(source="billing_run"),
                name="invoice_one_per_client_period",
                violation_error_message="This client already has an invoice for this period.",
            ),
            models.UniqueConstraint(
                fields=["number"], condition=~Q(number=""), name="invoice_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(source="manual")
                | (Q(period_year__isnull=False) & Q(period_month__isnull=False)),
                name="invoice_billing_run_has_period",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | ~Q(number=""), name="invoice_issued_has_number"
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0) & Q(amount_credited__gte=0),
                name="invoice_paid_credited_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft invoice #{self.pk}"

    def save(self, *args, **kwargs):
        # Instances made by bulk_create never went through from_db(): judge by what they hold.
        stored = getattr(self, "_stored_status", None) or (self.status if self.pk else None)
        if self.pk and stored and stored != self.Status.DRAFT:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= self.MUTABLE_WHEN_ISSUED:
                raise ImmutableInvoiceError(
                    f"Invoice {self.number} is issued and cannot be changed; "
                    "issue a credit note to correct it."
                )
            if self.status == self.Status.DRAFT:
                raise ImmutableInvoiceError("An issued invoice cannot become a draft again.")
        super().save(*args, **kwargs)
        self._stored_status = self.status

    def get_absolute_url(self) -> str:
        return reverse("invoices:detail", args=[self.pk])

    def delete(self, *args, **kwargs):
        stored = getattr(self, "_stored_status", self.status)
        if stored != self.Status.DRAFT:
            raise ImmutableInvoiceError(
                f"Invoice {self.number} is issued and can never be deleted."
            )
        return super().delete(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values, *, fetch_mode=None):
        instance = super().from_db(db, field_names, values, fetch_mode=fetch_mode)
        # What the database says, so that save() judges immutability by the stored state
        # and not by an attribute someone changed in memory.
        instance._stored_status = instance.__dict__.get("status")
        return instance

    # --- Derived ------------------------------------------------------------------------
    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def is_overdue_on(self, today: date) -> bool:
        return (
            self.is_open
            and self.balance is not None
            and self.balance > 0
            and self.due_date is not None
            and self.due_date < today
        )

    @property
    def is_overdue(self) -> bool:
        """GUIDE §2: overdue is derived: balance > 0 and the due date has passed."""
        return self.is_overdue_on(timezone.localdate())

    @property
    def period_label(self) -> str:
        if self.period_year and self.period_month:
            return date(self.period_year, self.period_month, 1).strftime("%B %Y")
        return ""

    @property
    def fully_credited(self) -> bool:
        return not self.is_draft and self.credited_total >= self.total

    @property
    def pdf_filename(self) -> str:
        """Made by the server from the number, never from user input."""
        return f"{self.number or f'draft-{self.pk}'}.pdf"

    @property
    def pdf_ready(self) -> bool:
        return self.pdf_rendered_at is not None


class InvoiceLineQuerySet(models.QuerySet):
    def delete(self):
        if self.exclude(invoice__status=Invoice.Status.DRAFT).exists():
            raise ImmutableInvoiceError("Lines of an issued invoice can never be deleted.")
        return super().delete()


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01"), message="The quantity must be positive.")],
    )
    unit_price = models.DecimalField(**MONEY)
    tax_rate = models.DecimalField(
        "tax rate (%)",
        max_digits=6,
        decimal_places=3,
        default=Decimal("0"),
        validators=[
            MinValueValidator(Decimal("0"), message="A tax rate cannot be negative."),
            MaxValueValidator(Decimal("100"), message="A tax rate is a percentage up to 100."),
        ],
    )
    net = models.DecimalField(**MONEY)  # cms_project.money.line_net, or a prorated share
    # Where the line came from (billing run); the text above is what the invoice says.
    subscription = models.ForeignKey(
        "services.Subscription",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoice_lines",
    )
    location = models.ForeignKey(
        "clients.ServiceLocation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoice_lines",
    )
    location_text = models.CharField("service location", max_length=300, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)

    objects = InvoiceLineQuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "position", "pk"]

    def __str__(self) -> str:
        return self.description

    def save(self, *args, **kwargs):
        if not self._invoice_is_draft():
            raise ImmutableInvoiceError("Lines of an issued invoice cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not self._invoice_is_draft():
            raise ImmutableInvoiceError("Lines of an issued invoice can never be deleted.")
        return super().delete(*args, **kwargs)

    def _invoice_is_draft(self) -> bool:
        if not self.invoice_id:
            return True
        status = Invoice.objects.filter(pk=self.invoice_id).values_list("status", flat=True).first()
        return status in (None, Invoice.Status.DRAFT)


# --- Credit notes ----------------------------------------------------------------------------
class CreditNote(models.Model):
    """A correction of an issued invoice: its own number series, referring to the invoice.
    Created issued (there are no draft credit notes) and never changed afterwards, except
    for its PDF being rendered."""

    MUTABLE = frozenset({"pdf_rendered_at", "credit_used"})

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="credit_notes"
    )
    number = models.CharField(max_length=32, unique=True)
    issue_date = models.DateField()
    reason = models.CharField(max_length=300)
    currency = models.CharField(max_length=3)

    client_name = models.CharField(max_length=200, blank=True)
    client_account_number = models.CharField(max_length=20, blank=True)
    billing_address = models.TextField(blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    company_address = models.TextField(blank=True)
    company_tax_id = models.CharField(max_length=50, blank=True)
    company_email = models.CharField(max_length=254, blank=True)
    company_phone = models.CharField(max_length=32, blank=True)
    company_logo = models.CharField(max_length=255, blank=True)

    net = models.DecimalField(**MONEY)
    tax = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    tax_breakdown = models.JSONField(default=list, blank=True)
    # How the total was used: first to reduce the invoice's balance, the rest is client credit.
    amount_applied = models.DecimalField(**MONEY, default=ZERO)
    amount_to_credit = models.DecimalField(**MONEY, default=ZERO)
    # How much of amount_to_credit has since been applied to other invoices (allocation.py).
    credit_used = models.DecimalField(**MONEY, default=ZERO)

    pdf_path = models.CharField(max_length=255, blank=True)
    pdf_rendered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-issue_date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_applied__gte=0) & Q(amount_to_credit__gte=0),
                name="credit_note_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(credit_used__gte=0) & Q(credit_used__lte=F("amount_to_credit")),
                name="credit_note_credit_used_within_credit",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        if self.pk:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= self.MUTABLE:
                raise ImmutableInvoiceError(f"Credit note {self.number} cannot be changed.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("invoices:credit_note_detail", args=[self.pk])

    def delete(self, *args, **kwargs):
        raise ImmutableInvoiceError(f"Credit note {self.number} can never be deleted.")

    @property
    def pdf_filename(self) -> str:
        return f"{self.number}.pdf"

    @property
    def pdf_ready(self) -> bool:
        return self.pdf_rendered_at is not None


class CreditNoteLine(models.Model):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    invoice_line = models.ForeignKey(
        InvoiceLine, on_delete=models.PROTECT, related_name="credit_lines"
    )
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=9, decimal_places=2)
    unit_price = models.DecimalField(**MONEY)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3)
    net = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["credit_note", "position", "pk"]
        constraints = [
            # A line is credited once: crediting it twice would refund it twice.
            models.UniqueConstraint(fields=["invoice_line"], name="invoice_line_credited_once")
        ]

    def __str__(self) -> str:
        return self.description

    def save(self, *args, **kwargs):
        if self.pk:
            raise ImmutableInvoiceError("Credit note lines cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableInvoiceError("Credit note lines can never be deleted.")


# --- Billing runs ----------------------------------------------------------------------------
class BillingRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    period_year = models.PositiveSmallIntegerField()
    period_month = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    issue_invoices = models.BooleanField(default=True)
    clients_total = models.PositiveIntegerField(default=0)
    clients_processed = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    total_billed = models.DecimalField(**MONEY, default=ZERO)
    failure = models.TextField(blank=True, help_text="Why the whole run stopped, if it did.")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Billing run {self.period_label} (#{self.pk})"

    def get_absolute_url(self) -> str:
        return reverse("invoices:billing_run", args=[self.pk])

    @property
    def period_label(self) -> str:
        return date(self.period_year, self.period_month, 1).strftime("%B %Y")

    @property
    def period_code(self) -> str:
        return f"{self.period_year}-{self.period_month:02d}"

    @property
    def is_done(self) -> bool:
        return self.status in (self.Status.FINISHED, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.is_done:
            return 100
        if not self.clients_total:
            return 0
        return min(100, self.clients_processed * 100 // self.clients_total)


class BillingRunError(models.Model):
    """A client the run could not bill, and why; re-running the period retries it."""

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="errors")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="billing_errors"
    )
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.message[:60]}"


# --- Payments --------------------------------------------------------------------------------
class LedgerEntryError(Exception):
    """Something tried to change or delete a payment, allocation or refund: the ledger is
    append-only. Corrections are new entries (a refund, a reversal)."""


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CHECK = "check", "Check"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CARD_ONLINE = "card_online", "Card (online)"


class Payment(models.Model):
    """Money received from a client. Its amount is split into allocations to invoices; what
    is not allocated (nor refunded) is client credit, applied to the next invoices."""

    # Only these change after the payment is recorded: allocation, refunds, the receipt.
    MUTABLE = frozenset(
        {
            "amount_allocated",
            "amount_refunded",
            "receipt_path",
            "receipt_rendered_at",
            "receipt_snapshot",
        }
    )

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="payments")
    number = models.CharField(max_length=32, unique=True)  # RCT-2026-000001, gapless
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    received_on = models.DateField()
    method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    reference = models.CharField(max_length=100, blank=True, help_text="Check number, transfer id…")
    notes = models.TextField(blank=True)
    # Online payments: the provider's own id; with the unique constraint below it makes a
    # replayed webhook or a redirect racing the webhook record one payment, not two.
    provider = models.CharField(max_length=20, blank=True)
    provider_reference = models.CharField(max_length=255, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)  # never more: no card numbers
    amount_allocated = models.DecimalField(**MONEY, default=ZERO)
    amount_refunded = models.DecimalField(**MONEY, default=ZERO)
    unallocated = models.GeneratedField(
        expression=F("amount") - F("amount_allocated") - F("amount_refunded"),
        output_field=models.DecimalField(**MONEY),
        db_persist=True,
    )
    receipt_path = models.CharField(max_length=255, blank=True)
    receipt_rendered_at = models.DateTimeField(null=True, blank=True)
    # What the receipt shows, taken in the recording transaction (receipts.py): the company
    # and client as they were, what the payment paid, the credit and balance after it. The
    # PDF is rendered later from this, never from live records that change.
    receipt_snapshot = models.JSONField(default=dict, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_on", "-pk"]
        indexes = [
            models.Index(fields=["client", "received_on"]),
            models.Index(fields=["received_on", "id"], name="payment_received_id_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount_allocated__gte=0)
                & Q(amount_refunded__gte=0)
                # Half a cent of slack: SQLite adds decimals as floats (0.01 + 96.84 is
                # 96.85000000000001); amounts are whole cents, so on PostgreSQL it is exact.
                & Q(amount__gt=F("amount_allocated") + F("amount_refunded") - Decimal("0.005")),
                name="payment_allocated_within_amount",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="payment_provider_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        if self.pk and not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= self.MUTABLE:
                raise LedgerEntryError(
                    f"Payment {self.number} cannot be changed; record a refund or a reversal."
                )
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("invoices:payment_detail", args=[self.pk])

    def delete(self, *args, **kwargs):
        raise LedgerEntryError(f"Payment {self.number} can never be deleted; reverse it.")

    @property
    def is_reversed(self) -> bool:
        return any(r.kind == Refund.Kind.REVERSAL for r in self.refunds.all())

    @property
    def receipt_filename(self) -> str:
        return f"{self.number}.pdf"


class Allocation(models.Model):
    """Part of a payment (or of a credit note's credit) applied to one invoice. A reversal
    adds a negative row; rows are never edited or deleted."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="allocations"
    )
    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.PROTECT, null=True, blank=True, related_name="allocations"
    )
    amount = models.DecimalField(**MONEY)
    reversal = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["invoice", "payment"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(payment__isnull=False) & Q(credit_note__isnull=True))
                | (Q(payment__isnull=True) & Q(credit_note__isnull=False)),
                name="allocation_from_payment_xor_credit_note",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0) | (Q(reversal=True) & Q(amount__lt=0)),
                name="allocation_positive_unless_reversal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} to invoice #{self.invoice_id}"

    def save(self, *args, **kwargs):
        if self.pk and not self._state.adding:
            raise LedgerEntryError("Allocations cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerEntryError("Allocations can never be deleted.")


class Refund(models.Model):
    """Money going back out: a refund of a payment's unused credit, or the reversal of a
    payment recorded by mistake (bounced check, wrong client)."""

    class Kind(models.TextChoices):
        REFUND = "refund", "Refund"
        REVERSAL = "reversal", "Reversal"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.DecimalField(**MONEY)
    refunded_on = models.DateField()
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.UniqueConstraint(
                fields=["payment"], condition=Q(kind="reversal"), name="refund_one_reversal"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.amount} ({self.payment})"

    def save(self, *args, **kwargs):
        if self.pk and not self._state.adding:
            raise LedgerEntryError("Refunds cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerEntryError("Refunds can never be deleted.")


# --- Collections: reminders and suspensions for non-payment (reminders.py, suspension.py) ---
class Reminder(models.Model):
    """One reminder sent about an invoice: a step of the schedule (days relative to the due
    date) or, with no step, one sent by hand. The row is inserted before anything is sent, in
    the same transaction: the unique constraint is what makes each step go out at most once,
    however many `send_reminders` run at the same time."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="reminders")
    # Copied from the invoice so that "last reminder" per client is one indexed lookup.
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="reminders")
    step = models.SmallIntegerField(null=True, blank=True)  # None: sent by hand
    channels = models.CharField(max_length=20, blank=True)  # "email,sms" as queued; "" = none
    sent_at = models.DateTimeField(default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-sent_at", "-pk"]
        indexes = [
            models.Index(fields=["client", "sent_at"], name="reminder_client_sent_idx"),
            models.Index(fields=["invoice", "sent_at"], name="reminder_invoice_sent_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "step"],
                condition=Q(step__isnull=False),
                name="reminder_once_per_step",
            )
        ]

    def __str__(self) -> str:
        return f"Reminder {self.step_label} for invoice #{self.invoice_id}"

    @property
    def is_manual(self) -> bool:
        return self.step is None

    @property
    def step_label(self) -> str:
        if self.step is None:
            return "sent by hand"
        if self.step == 0:
            return "on the due date"
        days = abs(self.step)
        unit = "day" if days == 1 else "days"
        return f"{days} {unit} {'before' if self.step < 0 else 'after'} due"

    @property
    def channel_list(self) -> list[str]:
        return [c for c in self.channels.split(",") if c]

    @property
    def channels_display(self) -> str:
        names = {"email": "email", "sms": "SMS"}
        return " and ".join(names.get(c, c) for c in self.channel_list) or "no channel"


class NonPaymentSuspension(models.Model):
    """A client's services suspended by collections for an overdue balance. Open (not lifted)
    at most once per client; the subscriptions it suspended carry suspended_for_nonpayment."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="nonpayment_suspensions"
    )
    suspended_at = models.DateTimeField(default=timezone.now)
    overdue_amount = models.DecimalField(**MONEY, default=ZERO)
    subscriptions = models.PositiveIntegerField(default=0)  # how many were suspended
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by_payment = models.ForeignKey(
        Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-suspended_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(lifted_at__isnull=True),
                name="nonpayment_suspension_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"Suspension of client #{self.client_id} since {self.suspended_at:%Y-%m-%d}"


# --- Online payments -------------------------------------------------------------------------
class OnlineCheckout(models.Model):
    """A client paying online: what they chose to pay (invoices and amounts), the provider's
    session, and the payment it became. The card number and CVC never reach this model (nor
    any other): only the brand and last four digits, once the provider says it was paid."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    # In URLs instead of the pk: not guessable, and the views still check the owner.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="online_checkouts"
    )
    provider = models.CharField(max_length=20)
    # The provider's id for it (Stripe: cs_…); empty until the provider has answered.
    session_id = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    # [{"invoice_id": 12, "number": "INV-2026-000012", "amount": "49.99"}], amounts as strings.
    allocations = models.JSONField(default=list)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    failure_message = models.CharField(max_length=300, blank=True)
    payment = models.OneToOneField(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="online_checkout",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "session_id"],
                condition=~Q(session_id=""),
                name="online_checkout_session_unique",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="online_checkout_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Online checkout {self.public_id} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


# --- Running totals for the dashboard and reports (running_totals.py) ---------------------
class DailyTotal(models.Model):
    """What was issued, credited, received and refunded on one day, added to by the same
    transaction that writes each document (documents never change once written), so a year's
    report reads a few thousand of these rows instead of a million invoices and payments."""

    class Measure(models.TextChoices):
        INVOICED = "invoiced", "Invoiced (invoice totals)"
        CREDITED = "credited", "Credited (credit-note totals)"
        PAID = "paid", "Payments received"
        REFUNDED = "refunded", "Refunds and reversals"
        SERVICE = "service", "Invoice lines net of tax, per service"

    day = models.DateField()
    measure = models.CharField(max_length=10, choices=Measure.choices)
    # The service of a SERVICE row; 0 for lines typed by hand and for every other measure.
    # A plain number, not a foreign key: part of the unique key the upsert conflicts on.
    service_key = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO)
    documents = models.PositiveIntegerField(default=0)  # invoices, payments… (lines: lines)
    largest = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "measure", "service_key"], name="daily_total_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.measure} {self.service_key}: {self.amount}"


class ClientTotal(models.Model):
    """A client's ledger so far, kept by running_totals.py as documents are written: issued
    invoices, credit notes, payments and refunds, hence the balance and lifetime value
    (the formulas of ledger.py). Lists, reports and the client page read them with one join
    instead of summing every document of every row; the top-customers report and the
    dashboard rank by lifetime value, the client list sorts by balance."""

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, primary_key=True, related_name="ledger_total"
    )
    # Added after paid and refunded (migration 0009); the database default lets rows be
    # written by code that predates them, such as migration 0007's backfill.
    invoiced = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO, db_default=ZERO)
    credited = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO, db_default=ZERO)
    paid = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO)
    refunded = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO)
    balance = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO, db_default=ZERO)
    lifetime_value = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO)

    class Meta:
        indexes = [
            models.Index(
                F("lifetime_value").desc(), F("client").asc(), name="client_total_ltv_idx"
            ),
            models.Index(F("balance").desc(), F("client").asc(), name="client_total_balance_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}: balance {self.balance}, lifetime value {self.lifetime_value}"


# --- Late payers' aging, one row per client (aging_rows.py) -----------------------------------
class AgingSnapshot(models.Model):
    """The day the `ClientAging` rows are aged for: one row, written by each rebuild. The rows
    are used only when this is today (company time); otherwise the report ages the invoices."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    as_of = models.DateField()
    rebuilt_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Aging as of {self.as_of}"


class ClientAging(models.Model):
    """A client with an overdue balance, their open balance per age bucket as of
    `AgingSnapshot.as_of`: the late payers report reads 50 of these in index order instead of
    grouping every invoice that still owes. Rebuilt each day by the collections run; refreshed
    for a client by every transaction that changes one of their invoices' balance."""

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    b_current = models.DecimalField(max_digits=14, decimal_places=2)
    b_1_30 = models.DecimalField(max_digits=14, decimal_places=2)
    b_31_60 = models.DecimalField(max_digits=14, decimal_places=2)
    b_61_90 = models.DecimalField(max_digits=14, decimal_places=2)
    b_90_plus = models.DecimalField(max_digits=14, decimal_places=2)
    overdue = models.DecimalField(max_digits=14, decimal_places=2)
    oldest_due = models.DateField()

    class Meta:
        # One per sort of the report (aging.SORTS) that is not on a client column.
        indexes = [
            models.Index(F("overdue").desc(), F("client").asc(), name="client_aging_overdue_idx"),
            models.Index(
                F("b_90_plus").desc(),
                F("overdue").desc(),
                F("client").asc(),
                name="client_aging_90_idx",
            ),
            models.Index(fields=["oldest_due", "client"], name="client_aging_oldest_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(overdue__gt=0), name="client_aging_overdue_gt_0")
        ]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.overdue} overdue"
