"""Clients, their service locations and the equipment installed there (GUIDE §2)."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from cms_project.money import round_money
from staff.models import Role

from .validation import validate_mac


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
    # A promise to pay: no reminder to this client before this date.
    reminders_paused_until = models.DateField(null=True, blank=True)
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
            # The list sorts by these; each sort key ends with pk so paging is stable.
            models.Index(fields=["name", "id"], name="client_name_id_idx"),
            models.Index(fields=["signup_date", "id"], name="client_signup_id_idx"),
            models.Index(Upper("billing_city"), name="client_billing_city_upper_idx"),
            models.Index(fields=["phone"], name="client_phone_idx"),  # exact E.164 search
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
        indexes = [models.Index(Upper("city"), name="location_city_upper_idx")]
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
    mac_address = models.CharField(
        "MAC address", max_length=17, blank=True, validators=[validate_mac]
    )
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


class Interaction(models.Model):
    """One contact with a client: a call, an email, a meeting, a site visit or a support case."""

    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        MEETING = "meeting", "Meeting"
        SITE_VISIT = "site_visit", "Site visit"
        SUPPORT_CASE = "support_case", "Support case"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    occurred_at = models.DateTimeField("date and time", default=timezone.now)
    subject = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    duration_minutes = models.PositiveIntegerField("duration (minutes)", null=True, blank=True)
    next_action = models.CharField(max_length=200, blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="logged_interactions",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["client", "-occurred_at"], name="interaction_timeline_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"


def workspace_user_choices() -> models.Q:
    """Tasks are assigned to people who work in the staff workspace."""
    return models.Q(role__in=[Role.ADMIN, Role.STAFF], is_active=True)


class FollowUpTask(models.Model):
    class Priority(models.IntegerChoices):
        # Numbers so that "most urgent first" is a plain ORDER BY.
        LOW = 1, "Low"
        NORMAL = 2, "Normal"
        HIGH = 3, "High"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    title = models.CharField(max_length=200)
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assigned_tasks",
        limit_choices_to=workspace_user_choices,
    )
    due_date = models.DateField()
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "-priority", "pk"]
        indexes = [
            models.Index(fields=["assignee", "status", "due_date"], name="task_assignee_due_idx"),
            models.Index(fields=["client", "status"], name="task_client_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_date < timezone.localdate()


class ClientImport(models.Model):
    """An uploaded CSV of clients, kept between the dry-run preview and the import itself (in
    the database, so any web process can finish what another one started)."""

    class Status(models.TextChoices):
        VALID = "valid", "Ready to import"
        INVALID = "invalid", "Has errors"
        IMPORTED = "imported", "Imported"

    filename = models.CharField(max_length=255)
    content = models.TextField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    row_count = models.PositiveIntegerField(default=0)
    client_count = models.PositiveIntegerField(default=0)
    location_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row": 3, "field": "phone", ...}]
    preview = models.JSONField(default=list, blank=True)  # the first few clients, for the page
    imported_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)  # how long the import itself took

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"


class Opportunity(models.Model):
    """A possible sale to a prospect or a client (the sales pipeline)."""

    class Stage(models.TextChoices):
        PROSPECTING = "prospecting", "Prospecting"
        QUALIFICATION = "qualification", "Qualification"
        PROPOSAL = "proposal", "Proposal"
        NEGOTIATION = "negotiation", "Negotiation"
        WON = "won", "Closed Won"
        LOST = "lost", "Closed Lost"

    # The probability a stage starts with (percent); staff may override it per opportunity.
    STAGE_PROBABILITY = {
        Stage.PROSPECTING: 10,
        Stage.QUALIFICATION: 25,
        Stage.PROPOSAL: 50,
        Stage.NEGOTIATION: 75,
        Stage.WON: 100,
        Stage.LOST: 0,
    }
    CLOSED_STAGES = (Stage.WON, Stage.LOST)
    OPEN_STAGES = (Stage.PROSPECTING, Stage.QUALIFICATION, Stage.PROPOSAL, Stage.NEGOTIATION)
    # "Best case" counts the open opportunities at least this far along.
    BEST_CASE_STAGES = (Stage.PROPOSAL, Stage.NEGOTIATION)

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="opportunities")
    name = models.CharField(max_length=200)
    value = models.DecimalField(max_digits=12, decimal_places=2)
    stage = models.CharField(
        max_length=14, choices=Stage.choices, default=Stage.PROSPECTING, db_index=True
    )
    probability = models.PositiveSmallIntegerField("probability (%)")
    expected_close_date = models.DateField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="opportunities",
        limit_choices_to=workspace_user_choices,
    )
    notes = models.TextField(blank=True)
    closed_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["expected_close_date", "pk"]
        verbose_name_plural = "opportunities"
        indexes = [
            models.Index(
                fields=["stage", "expected_close_date"], name="opportunity_stage_close_idx"
            ),
            models.Index(fields=["owner", "stage"], name="opportunity_owner_stage_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(value__gte=0), name="opportunity_value_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="opportunity_probability_max_100"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.stage in self.OPEN_STAGES

    @property
    def weighted_value(self):
        return round_money(self.value * self.probability / 100)
