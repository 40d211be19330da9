"""A sign-up waiting for its email address to be verified."""

import secrets

from django.db import models


def new_key() -> str:
    return secrets.token_urlsafe(24)


class SignupRequest(models.Model):
    """What someone typed on the sign-up page, kept until they click the emailed link (or it
    expires). No account exists before that, so an unverified sign-up can neither squat on an
    address nor be logged into. The password is kept hashed, as on an account, and never leaves
    the database (the link carries only a signed reference to this row)."""

    email = models.EmailField(db_index=True)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    phone = models.CharField(max_length=32, blank=True)  # E.164, not verified
    password_hash = models.CharField(max_length=256)
    key = models.CharField(max_length=64, default=new_key, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Sign-up of {self.email}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
