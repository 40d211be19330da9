"""Brute-force protection around the log-in (django-axes), seen from our side.

Axes counts failed log-ins per account and per client address (settings.AXES_*); these are the
hooks it calls (which address, which account name, what a locked-out visitor sees) and what
admins use to see and lift lock-outs.
"""

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address. Behind N trusted proxies (TRUSTED_PROXY_COUNT) it is the Nth
    address from the right of X-Forwarded-For: those entries were added by our proxies, the
    ones to their left may be forged by the client."""
    remote = request.META.get("REMOTE_ADDR") or None
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= count:
            remote = forwarded[-count]
    try:
        return str(ipaddress.ip_address(remote)) if remote else None
    except ValueError:
        return None


def normalise_username(value) -> str | None:
    """Email addresses are matched case-insensitively, so they are counted that way too."""
    if not value:
        return None
    return str(value).replace("\x00", "").strip().lower()[:254] or None


def username_from_request(request: HttpRequest, credentials: dict | None) -> str | None:
    if credentials:
        value = credentials.get(settings.AXES_USERNAME_FORM_FIELD) or credentials.get("email")
    else:
        value = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    return normalise_username(value)


def cooloff_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


LOCKOUT_MESSAGE = (
    "Too many failed log-in attempts. For your security, log-in is paused for {minutes} "
    "minutes for this account or from this network. Try again later, or use “Forgot your "
    "password?” if you are unsure of it."
)


def lockout_message() -> str:
    return LOCKOUT_MESSAGE.format(minutes=cooloff_minutes())


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """What a locked-out visitor sees: the log-in page with a clear message (HTTP 429)."""
    from .forms import EmailAuthenticationForm
    from .twofactor import clear_pending_login

    clear_pending_login(request)
    form = EmailAuthenticationForm(request)
    response: HttpResponse = render(
        request,
        "registration/login.html",
        {"form": form, "locked_out": True, "lockout_message": lockout_message(), "next": ""},
        status=429,
    )
    response["Retry-After"] = str(cooloff_minutes() * 60)
    return response


def is_locked_out(request: HttpRequest, email: str) -> bool:
    from axes.handlers.proxy import AxesProxyHandler

    if not settings.AXES_ENABLED:
        return False
    return not AxesProxyHandler.is_allowed(request, {settings.AXES_USERNAME_FORM_FIELD: email})


@dataclass
class Lockout:
    kind: str  # "account" or "address"
    value: str
    failures: int
    last_failure: datetime

    @property
    def until(self) -> datetime:
        return self.last_failure + settings.AXES_COOLOFF_TIME


def current_lockouts() -> list[Lockout]:
    """Accounts and addresses refused right now. Two grouped queries, whatever the history."""
    from axes.models import AccessAttempt

    recent = AccessAttempt.objects.filter(
        attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME
    )
    limit = settings.AXES_FAILURE_LIMIT
    found = []
    for kind, field in (("account", "username"), ("address", "ip_address")):
        rows = (
            recent.exclude(**{f"{field}__isnull": True})
            .exclude(**{field: ""})
            .values(field)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=limit)
            .order_by("-last")
        )
        found += [Lockout(kind, row[field], row["failures"], row["last"]) for row in rows]
    return found


def locked_usernames(emails) -> set[str]:
    """Which of these accounts are locked out now (one query; for the team list)."""
    return {
        lock.value
        for lock in current_lockouts()
        if lock.kind == "account" and lock.value in {e.lower() for e in emails}
    }


def unlock(*, kind: str, value: str) -> int:
    """Forget the failures of an account or an address; returns how many records went."""
    from axes.utils import reset

    if kind == "account":
        return reset(username=normalise_username(value))
    if kind == "address":
        return reset(ip=value)
    raise ValueError(f"Unknown lock-out kind {kind!r}")
