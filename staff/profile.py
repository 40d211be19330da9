"""A user's own profile: names, email address and phone."""

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from .audit import diff, record
from .mail import send_account_email
from .models import SMSDevice, User

PROFILE_FIELDS = ["first_name", "last_name", "email", "phone"]


@transaction.atomic
def save_profile(*, user: User, before: dict, request: HttpRequest | None) -> dict:
    """Save the edited `user` (a form has set the new values; `before` is the snapshot taken
    before) and record what changed. The form has already checked the password if the email
    or the phone changed."""
    changes = diff(before, user, PROFILE_FIELDS)
    if "phone" in changes:
        # A new number is unverified until a code sent to it comes back, unless it is the
        # number already verified for SMS codes.
        verified = SMSDevice.objects.filter(user=user, confirmed=True, number=user.phone)
        user.phone_verified_at = timezone.now() if user.phone and verified.exists() else None
    user.save()
    if "email" in changes:
        old_email = changes["email"][0]
        record(
            actor=user,
            action="account.email_change",
            obj=user,
            changes={"email": changes["email"]},
            request=request,
        )
        # The old address hears of it: if this was not them, they know at once.
        transaction.on_commit(
            lambda: send_account_email(
                to=old_email,
                template="staff/email/email_changed",
                context={"user": user, "new_email": user.email},
            )
        )
    if "phone" in changes:
        record(
            actor=user,
            action="account.phone_change",
            obj=user,
            changes={"phone": changes["phone"]},
            request=request,
        )
    names = {k: v for k, v in changes.items() if k in ("first_name", "last_name")}
    if names:
        record(
            actor=user, action="account.profile_update", obj=user, changes=names, request=request
        )
    return changes
