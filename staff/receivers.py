"""Audit entries and session clocks for Django's log-in signals and django-axes' lock-outs.

Connected in StaffConfig.ready(). Kept to recording: no decision is made here.
"""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .audit import record
from .lockout import normalise_username
from .middleware import stamp_login
from .models import User


def _account_named(email) -> User | None:
    email = normalise_username(email)
    return User.objects.filter(email__iexact=email).first() if email else None


@receiver(user_logged_in, dispatch_uid="staff.audit_login")
def on_login(sender, request, user, **kwargs):
    if request is None:
        return
    stamp_login(request.session)
    method = getattr(request, "login_method", "password")
    record(actor=user, action="auth.login", obj=user, request=request, note=method)


@receiver(user_login_failed, dispatch_uid="staff.audit_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    if request is None:
        return
    blocked = getattr(request, "axes_locked_out", False) and (
        getattr(request, "axes_failures_since_start", None) is None
    )
    if blocked:
        return  # refused while locked out, not a password tried: on_locked_out records it
    email = normalise_username(credentials.get("username") or credentials.get("email"))
    reason = kwargs.get("reason") or "wrong email or password"
    record(
        actor=None,
        action="auth.login_failed",
        obj=_account_named(email),
        request=request,
        note=f"{reason}; email tried: {email or '(none)'}",
    )


@receiver(user_locked_out, dispatch_uid="staff.audit_locked_out")
def on_locked_out(sender, request, username, ip_address, **kwargs):
    # The attempt that reaches the limit has a failure count; later refused ones do not.
    first = getattr(request, "axes_failures_since_start", None) is not None
    record(
        actor=None,
        action="auth.lockout" if first else "auth.login_blocked",
        obj=_account_named(username),
        request=request,
        note=f"email tried: {username or '(none)'}; address: {ip_address or 'unknown'}",
    )


@receiver(user_logged_out, dispatch_uid="staff.audit_logout")
def on_logout(sender, request, user, **kwargs):
    if user is None or request is None or getattr(request, "session_expired", False):
        return
    record(actor=user, action="auth.logout", obj=user, request=request)
