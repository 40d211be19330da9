"""A user's own profile: names, email address and phone.

Names change at once. A new email address or phone number is only proven, not applied, here:
see staff.account_changes (a link to the new address, a code to the new number).
"""

from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from .account_changes import request_email_change, start_phone_change
from .audit import diff, record
from .models import SMSDevice, User

PROFILE_FIELDS = ["first_name", "last_name", "email", "phone"]


@dataclass(frozen=True)
class ProfileOutcome:
    names_changed: bool = False
    email_pending: str = ""  # a confirmation link went to this address
    phone_pending: str = ""  # a code was texted to this number
    phone_changed: bool = False  # removed, or back to a number already verified


@transaction.atomic
def save_profile(*, user: User, before: dict, request: HttpRequest) -> ProfileOutcome:
    """Save the edited `user` (a form has set the new values and checked the password if the
    email or the phone changed; `before` is the snapshot taken before). Raises
    AccountChangeError (nothing saved) if a code cannot be texted to a new number."""
    changes = diff(before, user, PROFILE_FIELDS)
    # Neither the email nor a new number is applied before it is proven.
    user.email = before["email"]
    new_email = changes["email"][1] if "email" in changes else ""
    phone_pending = ""
    phone_changed = False
    if "phone" in changes:
        new_phone = user.phone
        already_verified = bool(new_phone) and (
            SMSDevice.objects.filter(user=user, confirmed=True, number=new_phone).exists()
        )
        if new_phone and not already_verified:
            user.phone = before["phone"] or ""
            phone_pending = new_phone
        else:
            # Removing the number, or going back to the one verified for SMS codes.
            user.phone_verified_at = timezone.now() if new_phone else None
            phone_changed = True
    user.save()
    if phone_changed:
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
    if new_email:
        request_email_change(user=user, new_email=new_email, request=request)
    if phone_pending:
        start_phone_change(
            user=user, number=phone_pending, session=request.session, request=request
        )
    return ProfileOutcome(
        names_changed=bool(names),
        email_pending=new_email,
        phone_pending=phone_pending,
        phone_changed=phone_changed,
    )
