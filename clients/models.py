"""Clients, their service locations and the equipment installed there (GUIDE §2)."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from phonenumber_field.modelfields import PhoneNumberField


class Client(models.Model):
    class Status(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CANCELLED = "cancelled", "Cancelled"

    class Segment(models.TextChoices):
        RESIDENTIAL = "residential", "Residential"
        BUSINESS = "business", "Business"

    account_number = models.CharField(max_length=20, unique=True)
    name = models.CharField("contact name", max_length=200)
    company_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = PhoneNumberField(blank=True)  # stored E.164
    billing_street = models.CharField("billing street", max_length=200, blank=True)
    billing_city = models.CharField(max_length=100, blank=True)
    billing_postal_code = models.CharField(max_length=20, blank=True)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PROSPECT, db_index=True
    )
    segment = models.CharField(max_length=12, choices=Segment.choices, default=Segment.RESIDENTIAL)
    signup_date = models.DateField()
    last_payment_date = models.DateField(null=True, blank=True)  # kept current by payments
    notes = models.TextField(blank=True)
    consent_email_marketing = models.BooleanField(default=False)
    consent_email_marketing_at = models.DateTimeField(null=True, blank=True)
    consent_sms = models.BooleanField("SMS notifications", default=False)
    consent_sms_at = models.DateTimeField(null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="client_account",
        help_text="Portal login (a user with the client role).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        indexes = [
            models.Index(Lower("name"), name="client_name_lower_idx"),
            models.Index(fields=["status", "segment"]),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.account_number})"

    @property
    def display_name(self) -> str:
        return self.company_name or self.name


class ServiceLocation(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="locations")
    label = models.CharField(max_length=100, help_text="e.g. Home, Main office, Warehouse")
    street = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    install_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        ordering = ["client", "label", "pk"]
        constraints = [
            # The same address appears once per client.
            models.UniqueConstraint(
                "client",
                Lower("street"),
                Lower("city"),
                Lower("postal_code"),
                name="location_address_unique_per_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.street}, {self.city}"


class Equipment(models.Model):
    class Kind(models.TextChoices):
        ONT = "ont", "ONT"
        ROUTER = "router", "Router"
        MESH = "mesh", "Mesh unit"
        SET_TOP_BOX = "stb", "Set-top box"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        IN_STOCK = "in_stock", "In stock"
        INSTALLED = "installed", "Installed"
        RETURNED = "returned", "Returned"
        FAULTY = "faulty", "Faulty"

    class Ownership(models.TextChoices):
        RENTED = "rented", "Rented"
        SOLD = "sold", "Sold"
        COMPANY = "company", "Company-owned"

    location = models.ForeignKey(
        ServiceLocation, on_delete=models.PROTECT, null=True, blank=True, related_name="equipment"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    make_model = models.CharField("make and model", max_length=120, blank=True)
    serial_number = models.CharField(max_length=64, unique=True)
    mac_address = models.CharField("MAC address", max_length=17, blank=True)
    install_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.IN_STOCK)
    ownership = models.CharField(max_length=10, choices=Ownership.choices, default=Ownership.RENTED)

    class Meta:
        ordering = ["kind", "serial_number"]
        verbose_name_plural = "equipment"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.serial_number}"


class EquipmentMove(models.Model):
    """History of where a piece of equipment has been: never edited, only appended."""

    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, related_name="moves")
    from_location = models.ForeignKey(
        ServiceLocation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_location = models.ForeignKey(
        ServiceLocation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Equipment.Status.choices)
    moved_at = models.DateTimeField(auto_now_add=True)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-moved_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.equipment} → {self.to_location or 'stock'} ({self.get_status_display()})"


class AccountNumberCounter(models.Model):
    """One row holding the last account number handed out; locked while the next is taken."""

    last_number = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"last account number {self.last_number}"
