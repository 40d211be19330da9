"""Accounts: one user model for admins, staff and clients, told apart by role."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_otp.models import CooldownMixin, SideChannelDevice, ThrottlingMixin


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    STAFF = "staff", "Staff"
    CLIENT = "client", "Client"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # Log-in is case-insensitive on the email address.
        return self.get(email__iexact=username)

    def _create_user(self, email: str, password: str | None, **extra_fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("role", Role.CLIENT)
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("role", Role.ADMIN)
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who logs in. `is_staff` keeps Django's meaning: access to the Django admin site
    (superusers only); the role decides which portal a user works in."""

    username = None
    email = models.EmailField("email address", unique=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.CLIENT, db_index=True)
    phone = models.CharField("phone", max_length=32, blank=True)
    # Set when the user proved they receive texts at `phone` (a code sent to it was typed back);
    # cleared whenever the phone changes. SMS goes only to verified numbers.
    phone_verified_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="staff_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def works_in_workspace(self) -> bool:
        """Admins and staff both work in the staff workspace."""
        return self.role in (Role.ADMIN, Role.STAFF)

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    @property
    def phone_is_verified(self) -> bool:
        return bool(self.phone and self.phone_verified_at)


class UserSession(AbstractBaseSession):
    """A database session tagged with its user (see staff.sessions)."""

    user_id = models.BigIntegerField(null=True, db_index=True)

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore


def end_sessions_of(user: User) -> int:
    """Log a user out everywhere; returns how many sessions were ended."""
    deleted, _ = UserSession.objects.filter(user_id=user.pk).delete()
    return deleted


def end_other_sessions(user: User, *, keep_session_key: str | None) -> int:
    """Log a user out everywhere except the session they are using now (password change)."""
    others = UserSession.objects.filter(user_id=user.pk)
    if keep_session_key:
        others = others.exclude(session_key=keep_session_key)
    deleted, _ = others.delete()
    return deleted


class SMSDevice(ThrottlingMixin, CooldownMixin, SideChannelDevice):
    """Second factor by text message: a 6-digit code sent to a phone the user has verified.

    django-otp's SideChannelDevice keeps the current code and its expiry (a new code replaces
    the old one, a used code is cleared); ThrottlingMixin slows down wrong guesses; CooldownMixin
    spaces out the texts. The hourly cap below stops a script from texting the phone all day.
    An unconfirmed device is a phone number being verified (setting up SMS codes)."""

    number = models.CharField("phone number", max_length=32)  # E.164
    sends_in_window = models.PositiveSmallIntegerField(default=0)
    send_window_started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "SMS device"

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_SMS_THROTTLE_FACTOR", 1)

    def get_cooldown_duration(self) -> int:
        return settings.SMS_CODE_COOLDOWN_SECONDS

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        now = timezone.now()
        ok = (
            self.token is not None
            and now < self.valid_until
            and constant_time_compare(str(token), self.token)
        )
        if ok:
            # Single use: the code is gone once it has worked.
            self.token = None
            self.valid_until = now
            self.throttle_reset(commit=False)
            self.cooldown_reset(commit=False)
            self.save()
        else:
            self.throttle_increment(commit=True)
        return ok

    @property
    def masked_number(self) -> str:
        return f"•••{self.number[-4:]}" if len(self.number) > 4 else self.number


class SecurityPolicy(models.Model):
    """Company-wide security settings admins change in the browser (one row)."""

    require_2fa_for_staff = models.BooleanField(
        "require two-factor authentication for staff and admins",
        default=False,
        help_text="Staff and admins without a second factor are sent to set one up at log-in.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "security policy"

    def __str__(self) -> str:
        return "Security policy"

    @classmethod
    def current(cls) -> "SecurityPolicy":
        """The policy in force (the defaults until an admin first saves it; reading writes
        nothing)."""
        return cls.objects.filter(pk=1).select_related("updated_by").first() or cls(pk=1)


class AuditEntryQuerySet(models.QuerySet):
    # The audit log is append-only: bulk changes are refused like single ones.
    def update(self, **kwargs):
        raise PermissionError("Audit entries are never changed.")

    def delete(self):
        raise PermissionError("Audit entries are never deleted.")


class AuditEntry(models.Model):
    """One thing someone did, when, from where, and the values it changed. Written by
    staff.audit.record(); never edited or deleted by the application (save() refuses updates,
    the admin is read-only, and on PostgreSQL a trigger refuses UPDATE and DELETE)."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # No database constraint and no cascade: the entry outlives the account it names.
    actor = models.ForeignKey(
        User,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=254, blank=True)  # email at the time
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)  # "app_label.model"
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    note = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["actor", "created_at"], name="audit_actor_idx"),
            models.Index(fields=["action", "created_at"], name="audit_action_idx"),
        ]

    def __str__(self) -> str:
        when = timezone.localtime(self.created_at)
        return f"{when:%Y-%m-%d %H:%M} {self.actor_label or 'system'} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit entries are never deleted.")
