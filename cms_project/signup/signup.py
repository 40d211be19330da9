"""Client self sign-up with email verification.

1. `request_signup` keeps what was typed (password hashed) in a SignupRequest and emails a
   signed link that expires after SIGNUP_LINK_MAX_AGE_HOURS. If the address already belongs
   to an account, the owner is emailed instead ("someone tried to sign up with your address",
   with a password-reset link). The visitor sees the same page either way, so the sign-up form
   never tells whether an address is registered.
2. `complete_signup`, when the link is confirmed, creates the portal user (role client) and
   its client record (status prospect, next account number) in one transaction.
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clients.accounts import create_client
from clients.models import Client
from staff.audit import record
from staff.lockout import client_ip
from staff.mail import PURPOSE_SIGNUP_EXISTING, PURPOSE_VERIFICATION, send_account_email
from staff.models import Role, User
from staff.ratelimit import allow

from .models import SignupRequest

SALT = "cms_project.signup.verify"
EMAILS_PER_ADDRESS_PER_HOUR = 3  # stops the form being used to flood someone's mailbox
SIGNUPS_PER_ADDRESS_IP_PER_HOUR = 10


class SignupError(Exception):
    """The verification link cannot create an account (expired, used, address taken)."""


class TooManySignups(Exception):
    """Too many sign-ups from one network address."""


def max_age() -> timedelta:
    return timedelta(hours=settings.SIGNUP_LINK_MAX_AGE_HOURS)


def _email_key(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


def make_token(pending: SignupRequest) -> str:
    return signing.dumps({"id": pending.pk, "k": pending.key}, salt=SALT, compress=True)


def pending_from_token(token: str, *, for_update: bool = False) -> SignupRequest | None:
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age())
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict):
        return None
    pending = SignupRequest.objects.filter(pk=data.get("id"), key=data.get("k"))
    if for_update:
        pending = pending.select_for_update()
    return pending.first()


def _reset_link(request: HttpRequest, user: User) -> str:
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return request.build_absolute_uri(path)


@transaction.atomic
def request_signup(
    *,
    email: str,
    first_name: str,
    last_name: str,
    phone: str,
    password: str,
    request: HttpRequest,
) -> None:
    """Start a sign-up. Returns nothing on purpose: the caller must answer the same way
    whether the address was free or taken. Raises TooManySignups for a flooding address."""
    ip = client_ip(request) or "unknown"
    if not allow(f"signup:ip:{ip}", limit=SIGNUPS_PER_ADDRESS_IP_PER_HOUR, window_seconds=3600):
        raise TooManySignups
    email = email.strip().lower()
    # Hash in both branches, so the time taken does not tell them apart either.
    password_hash = make_password(password)
    may_email = allow(
        f"signup:email:{_email_key(email)}",
        limit=EMAILS_PER_ADDRESS_PER_HOUR,
        window_seconds=3600,
    )
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        record(
            actor=None,
            action="signup.request",
            obj=existing,
            request=request,
            note="address already registered; owner told by email"
            if may_email
            else "address already registered; email limit reached",
        )
        if may_email:
            context = {
                "user": existing,
                "reset_link": _reset_link(request, existing) if existing.is_active else "",
                "login_link": request.build_absolute_uri(reverse("login")),
            }
            # Queued in this transaction: it leaves only if the sign-up request commits.
            send_account_email(
                to=existing.email,
                template="signup/email/existing",
                context=context,
                purpose=PURPOSE_SIGNUP_EXISTING,
                related=existing,
            )
        return
    SignupRequest.objects.filter(created_at__lt=timezone.now() - max_age()).delete()
    pending = SignupRequest.objects.create(
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        password_hash=password_hash,
    )
    record(
        actor=None,
        action="signup.request",
        obj=pending,
        request=request,
        note="verification link emailed" if may_email else "email limit reached; no link sent",
    )
    if may_email:
        context = {
            "first_name": first_name,
            "link": request.build_absolute_uri(
                reverse("signup:verify", args=[make_token(pending)])
            ),
            "hours": settings.SIGNUP_LINK_MAX_AGE_HOURS,
        }
        send_account_email(
            to=email,
            template="signup/email/verify",
            context=context,
            purpose=PURPOSE_VERIFICATION,
        )


@transaction.atomic
def complete_signup(*, token: str, request: HttpRequest | None) -> User:
    """Create the portal user and its client record from a confirmed link (single use)."""
    pending = pending_from_token(token, for_update=True)
    if pending is None:
        raise SignupError(
            "This link has expired or has already been used. Sign up again to get a new one."
        )
    email = pending.email
    if User.objects.filter(email__iexact=email).exists():
        SignupRequest.objects.filter(email__iexact=email).delete()
        raise SignupError(
            "An account with this email address already exists. Log in, or use “Forgot your "
            "password?” on the log-in page."
        )
    try:
        with transaction.atomic():  # a savepoint: two links of one address confirmed at once
            user = User(
                email=email,
                first_name=pending.first_name,
                last_name=pending.last_name,
                phone=pending.phone,
                role=Role.CLIENT,
                is_active=True,
            )
            user.password = pending.password_hash
            user.save()
    except IntegrityError as exc:
        raise SignupError(
            "An account with this email address already exists. Log in instead."
        ) from exc
    client = create_client(
        name=pending.full_name,
        email=email,
        phone=pending.phone,
        status=Client.Status.PROSPECT,
        user=user,
    )
    SignupRequest.objects.filter(email__iexact=email).delete()
    record(actor=user, action="signup.complete", obj=client, request=request)
    return user
