"""The service catalog, its price history, and subscriptions of services at locations (GUIDE §2).

What the database itself guarantees (not only the code): a service is open (pending, active or
suspended) at most once per location; a price has one row per effective date; quantities are at
least 1; an end date is never before its start; amounts are never negative.

"Name + price is unique among active services" cannot be a database constraint, because the price
lives in the price history (it depends on the date); `services.catalog` enforces it whenever a
service is created, renamed, reactivated or re-priced.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


def default_tax_rate() -> Decimal:
    return settings.DEFAULT_TAX_RATE


NOT_NEGATIVE = MinValueValidator(Decimal("0"), message="A price cannot be negative.")


class Service(models.Model):
    class Category(models.TextChoices):
        INTERNET = "internet", "Internet"
        TV = "tv", "TV"
        PHONE = "phone", "Phone"
        RENTAL = "rental", "Equipment rental"
        FEE = "fee", "Installation or other one-time fee"

    class BillingCycle(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        ONE_TIME = "one_time", "One-time"

    name = models.CharField(max_length=100)
    category = models.CharField(max_length=10, choices=Category.choices)
    description = models.TextField(blank=True)
    billing_cycle = models.CharField(
        max_length=10, choices=BillingCycle.choices, default=BillingCycle.MONTHLY
    )
    tax_rate = models.DecimalField(
        "tax rate (%)",
        max_digits=6,
        decimal_places=3,
        default=default_tax_rate,
        validators=[
            MinValueValidator(Decimal("0"), message="A tax rate cannot be negative."),
            MaxValueValidator(Decimal("100"), message="A tax rate is a percentage up to 100."),
        ],
    )
    is_active = models.BooleanField(
        "active", default=True, help_text="Inactive services cannot be subscribed to."
    )
    visible_to_clients = models.BooleanField(
        default=False, help_text="Shown in the client portal's catalog."
    )
    self_service = models.BooleanField(
        default=False,
        help_text="Subscriptions made in the portal start active at once, instead of pending "
        "until our team activates them (e.g. no installation needed).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "name", "pk"]
        indexes = [models.Index(fields=["is_active", "visible_to_clients"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_monthly(self) -> bool:
        return self.billing_cycle == self.BillingCycle.MONTHLY


class ServicePrice(models.Model):
    """One entry of a service's price history. A price already in effect is never edited:
    a change is a new row with a later `effective_from`."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="prices")
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[NOT_NEGATIVE])
    effective_from = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["service", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "effective_from"], name="service_price_one_per_date"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="service_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.amount} from {self.effective_from}"


class SubscriptionQuerySet(models.QuerySet):
    def open(self):
        """Pending, active or suspended: the ones that count for 'once per location'."""
        return self.filter(status__in=Subscription.OPEN_STATUSES)

    def billable(self):
        """Subscriptions that may produce charges: active ones, and cancelled ones that ran
        until their end date. A request cancelled while still pending never started, and is
        told apart by having no end date (cancelling an active subscription always sets one).
        Suspended subscriptions are not billed while suspended."""
        return self.filter(
            Q(status=Subscription.Status.ACTIVE)
            | Q(status=Subscription.Status.CANCELLED, end_date__isnull=False)
        )


class Subscription(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CANCELLED = "cancelled", "Cancelled"

    OPEN_STATUSES = (Status.PENDING, Status.ACTIVE, Status.SUSPENDED)

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="subscriptions")
    # Subscriptions belong to the location: deleting a location (or a client with no financial
    # records) takes its subscriptions along. Invoices copy what they bill, so they never depend
    # on a subscription still existing.
    location = models.ForeignKey(
        "clients.ServiceLocation", on_delete=models.CASCADE, related_name="subscriptions"
    )
    quantity = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1, message="The quantity must be at least 1.")]
    )
    start_date = models.DateField()
    end_date = models.DateField(
        null=True, blank=True, help_text="Last day billed; empty while it runs on."
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    agreed_price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[NOT_NEGATIVE],
        help_text="A discount or promotional price that replaces the list price.",
    )
    agreed_price_until = models.DateField(
        "agreed price until",
        null=True,
        blank=True,
        help_text="Last day of the agreed price; empty means it has no end.",
    )
    equipment = models.ForeignKey(
        "clients.Equipment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rental_subscriptions",
        help_text="For equipment rentals: the piece of equipment rented.",
    )
    # Suspended by collections for an overdue balance (not by staff): a payment that clears
    # the overdue balance lifts exactly these suspensions, and no others.
    suspended_for_nonpayment = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-pk"]
        indexes = [models.Index(fields=["status", "service"])]
        constraints = [
            # GUIDE §2: a given service is active at most once per location at a time.
            models.UniqueConstraint(
                fields=["service", "location"],
                condition=Q(status__in=["pending", "active", "suspended"]),
                name="subscription_one_open_per_service_location",
                violation_error_message="This location already has this service.",
            ),
            # A piece of equipment is rented out once at a time.
            models.UniqueConstraint(
                fields=["equipment"],
                condition=Q(status__in=["pending", "active", "suspended"]),
                name="subscription_one_open_rental_per_equipment",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="subscription_quantity_min_1"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="subscription_end_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(agreed_price__isnull=True) | Q(agreed_price__gte=0),
                name="subscription_agreed_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} at {self.location}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class Announcement(models.Model):
    """Staff announced a new service to consenting clients: at most once per service."""

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="announcement")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    sms_count = models.PositiveIntegerField(default=0)
    email_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Announcement of {self.service}"


class AnnouncementRecipient(models.Model):
    """Our own record that a client was sent (or skipped for) a service's announcement on one
    channel; the unique constraint is what makes a retried task never message anyone twice."""

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"

    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="recipients"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=5, choices=Channel.choices)
    queued = models.BooleanField(default=True, help_text="False when the client had opted out.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "client", "channel"],
                name="announcement_once_per_client_channel",
            )
        ]

    def __str__(self) -> str:
        return f"{self.announcement} to {self.client_id} by {self.channel}"
