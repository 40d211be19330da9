"""Changing one's own login email address and phone number: both prove the new one first.

Email: the profile form asks for the password; then a link signed with the secret key and
valid EMAIL_LINK_MAX_AGE is emailed to the *new* address. The address changes only when that
link is confirmed (a button, not the mere opening: mail scanners open links); the old address
is then told. The link names the account, the old and the new address, so it works once (after
the change the old address no longer matches) and not at all if the email changed meanwhile.

Phone: the profile form asks for the password; then a 6-digit code is texted to the new
number and the number changes only when the code is typed back (PHONE_CODE_TRIES tries, valid
SMS_CODE_VALID_MINUTES). What is pending lives in the user's session (server-side rows), only
as a keyed hash of the code. The account's email address is told of the change.
"""

import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from .audit import record
from .mail import PURPOSE_EMAIL_CHANGE, PURPOSE_SECURITY_NOTICE, send_account_email
from .models import User
from .ratelimit import allow

EMAIL_SALT = "staff.account_changes.email"
EMAIL_LINK_MAX_AGE = timedelta(hours=24)
PHONE_SESSION_KEY = "pending_phone_change"
PHONE_CODE_TRIES = 5
PHONE_CODES_PER_HOUR = 5  # per account: the form cannot be used to text a stranger repeatedly


class AccountChangeError(Exception):
    """The change cannot go on; the message is for the user."""


# --- Email ---------------------------------------------------------------------------------
def _absolute(request: HttpRequest | None, path: str) -> str:
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.COMPANY["portal_url"].rstrip("/") + path


def email_change_token(*, user: User, new_email: str) -> str:
    return signing.dumps(
        {"u": user.pk, "old": user.email, "new": new_email}, salt=EMAIL_SALT, compress=True
    )


def read_email_change_token(token: str) -> tuple[User, str] | None:
    """(user, new address) of a valid, unused, unexpired link; None otherwise."""
    try:
        data = signing.loads(token, salt=EMAIL_SALT, max_age=EMAIL_LINK_MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict):
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or user.email != data.get("old") or not isinstance(data.get("new"), str):
        return None
    return user, data["new"]


def request_email_change(*, user: User, new_email: str, request: HttpRequest | None) -> None:
    """Email a confirmation link to `new_email` (the caller has checked the password and that
    no other account uses it). Nothing changes on the account yet."""
    token = email_change_token(user=user, new_email=new_email)
    link = _absolute(request, reverse("accounts:email_confirm", args=[token]))
    send_account_email(
        to=new_email,
        template="staff/email/email_change_confirm",
        context={
            "user": user,
            "old_email": user.email,
            "link": link,
            "hours": int(EMAIL_LINK_MAX_AGE.total_seconds() // 3600),
        },
        purpose=PURPOSE_EMAIL_CHANGE,
        related=user,
    )
    record(
        actor=user,
        action="account.email_change_request",
        obj=user,
        changes={"email": [user.email, new_email]},
        note="confirmation link emailed to the new address",
        request=request,
    )


@transaction.atomic
def confirm_email_change(*, token: str, request: HttpRequest | None) -> User:
    """Apply a confirmed email change; the old address is told. Raises AccountChangeError."""
    found = read_email_change_token(token)
    if found is None:
        raise AccountChangeError(
            "This link has expired or has already been used. Change your email address on "
            "your profile again to get a new one."
        )
    user, new_email = found
    user = User.objects.select_for_update().get(pk=user.pk)
    old_email = user.email
    if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
        raise AccountChangeError("Another account uses this address now; it cannot be used.")
    user.email = new_email
    try:
        with transaction.atomic():
            user.save(update_fields=["email"])
    except IntegrityError:
        raise AccountChangeError(
            "Another account uses this address now; it cannot be used."
        ) from None
    record(
        actor=user,
        action="account.email_change",
        obj=user,
        changes={"email": [old_email, new_email]},
        note="confirmed from the link sent to the new address",
        request=request,
    )
    # The old address hears of it: if this was not them, they know at once.
    send_account_email(
        to=old_email,
        template="staff/email/email_changed",
        context={"user": user, "new_email": new_email},
        purpose=PURPOSE_SECURITY_NOTICE,
        related=user,
    )
    return user


# --- Phone ---------------------------------------------------------------------------------
def _code_hash(user: User, number: str, code: str) -> str:
    return salted_hmac(
        "staff.account_changes.phone", f"{user.pk}:{number}:{code}", algorithm="sha256"
    ).hexdigest()


def pending_phone_change(session) -> dict | None:
    """{"number", "expires", "tries"} of the change waiting for its code, if still valid."""
    pending = session.get(PHONE_SESSION_KEY)
    if not isinstance(pending, dict) or pending.get("expires", 0) < time.time():
        return None
    return pending


def start_phone_change(*, user: User, number: str, session, request: HttpRequest | None) -> None:
    """Text a code to `number` (E.164; the caller has checked the password). Raises
    AccountChangeError if the code cannot be sent (opted out, too many codes)."""
    from cms_project.messaging.sending import queue_sms

    if not allow(f"phone-change:{user.pk}", limit=PHONE_CODES_PER_HOUR, window_seconds=3600):
        raise AccountChangeError(
            "Too many codes were sent for this account in the last hour. Try again later."
        )
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = settings.SMS_CODE_VALID_MINUTES
    delivery = queue_sms(
        to=number,
        body=(
            f"{settings.COMPANY['name']} code to confirm this number: {code}. It expires in "
            f"{minutes} minutes. Never share it."
        ),
        purpose="verification",  # hidden in the delivery log, never re-sent
    )
    if delivery is None:
        raise AccountChangeError(
            "This number has opted out of our text messages (it replied STOP). Text START to "
            "us from it first, or use another number."
        )
    session[PHONE_SESSION_KEY] = {
        "number": number,
        "hash": _code_hash(user, number, code),
        "expires": time.time() + minutes * 60,
        "tries": 0,
    }


@transaction.atomic
def confirm_phone_change(*, user: User, code: str, session, request: HttpRequest | None) -> User:
    """Apply the pending number if `code` is right. Raises AccountChangeError otherwise."""
    pending = pending_phone_change(session)
    if pending is None:
        session.pop(PHONE_SESSION_KEY, None)
        raise AccountChangeError(
            "The code has expired. Change the number on your profile again to get a new one."
        )
    code = "".join(str(code).split())
    if not constant_time_compare(_code_hash(user, pending["number"], code), pending["hash"]):
        pending["tries"] += 1
        if pending["tries"] >= PHONE_CODE_TRIES:
            session.pop(PHONE_SESSION_KEY, None)
            raise AccountChangeError(
                "Too many wrong codes. Change the number on your profile again to get a new one."
            )
        session[PHONE_SESSION_KEY] = pending
        raise AccountChangeError("That code is not right. Check the text message and try again.")
    session.pop(PHONE_SESSION_KEY, None)
    user = User.objects.select_for_update().get(pk=user.pk)
    old = user.phone
    user.phone = pending["number"]
    user.phone_verified_at = timezone.now()
    user.save(update_fields=["phone", "phone_verified_at"])
    record(
        actor=user,
        action="account.phone_change",
        obj=user,
        changes={"phone": [old, user.phone]},
        note="new number confirmed with a texted code",
        request=request,
    )
    send_account_email(
        to=user.email,
        template="staff/email/phone_changed",
        context={"user": user, "new_phone": user.phone},
        purpose=PURPOSE_SECURITY_NOTICE,
        related=user,
    )
    return user
