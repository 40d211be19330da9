"""Log-in (password, then a code for users with 2FA), password change and password reset.

Brute-force protection: the password step goes through django-axes (staff.backends); a wrong
code at the second step counts as a failed log-in for axes too, so guessing codes locks out
exactly like guessing passwords. See docs/security.md.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from cms_project.redirects import safe_next_url

from . import twofactor
from .audit import record
from .forms import EmailAuthenticationForm, OTPCodeForm
from .lockout import is_locked_out, lockout_response, unlock
from .models import end_other_sessions, end_sessions_of
from .permissions import public
from .security import no_store

DEVICE_LABELS = {
    "otp_totp.totpdevice": "authenticator app",
    "staff.smsdevice": "SMS code",
    "otp_static.staticdevice": "backup code",
}


def _safe_next(request, url: str) -> str:
    return safe_next_url(request, url)


def _after_login_url(next_url: str) -> str:
    return next_url or resolve_url(settings.LOGIN_REDIRECT_URL)


@public
@sensitive_post_parameters("password")
@csrf_protect
@no_store
def login_view(request):
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    if request.user.is_authenticated:
        return redirect(_after_login_url(next_url))
    form = EmailAuthenticationForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if not twofactor.has_second_factor(user):
            request.login_method = "password"
            auth_login(request, user)
            return redirect(_after_login_url(next_url))
        # The password was right; the user is not logged in until the code is.
        twofactor.start_pending_login(request, user=user, next_url=next_url)
        sms = twofactor.sms_device(user)
        if sms is not None and twofactor.totp_device(user) is None:
            try:
                twofactor.send_sms_code(device=sms)
            except twofactor.SMSNotSent as exc:
                messages.warning(request, str(exc))
        return redirect("login_verify")
    return render(request, "registration/login.html", {"form": form, "next": next_url})


@public
@sensitive_post_parameters("code")
@csrf_protect
@no_store
def login_verify(request):
    """Second step: a code from the authenticator app, a texted code, or a backup code."""
    pending = twofactor.get_pending_login(request)
    if pending is None:
        messages.info(request, "Please log in again: the time to enter the code has run out.")
        return redirect("login")
    user = pending.user
    sms = twofactor.sms_device(user)
    form = OTPCodeForm(request.POST if "code" in request.POST else None)

    if request.method == "POST" and "send_sms" in request.POST:
        if sms is not None:
            try:
                twofactor.send_sms_code(device=sms)
            except twofactor.SMSNotSent as exc:
                messages.warning(request, str(exc))
            else:
                messages.success(request, f"A code was texted to {sms.masked_number}.")
        return redirect("login_verify")

    if request.method == "POST" and form.is_valid():
        if is_locked_out(request, user.email):
            record(
                actor=None,
                action="auth.login_blocked",
                obj=user,
                request=request,
                note="second step while locked out",
            )
            return lockout_response(request)
        code = form.cleaned_data["code"]
        if twofactor.login_throttled(user, code):
            # Nothing was checked, so nothing is counted: the user just has to wait a moment.
            form.add_error(
                "code", "Too many wrong codes in a row. Wait a few seconds, then try again."
            )
            return render(
                request,
                "staff/login_verify.html",
                {"form": form, "has_totp": twofactor.totp_device(user) is not None, "sms": sms},
            )
        device = twofactor.verify_login_code(user=user, code=code)
        if device is not None:
            twofactor.clear_pending_login(request)
            request.login_method = f"password + {DEVICE_LABELS.get(device.model_label(), '2FA')}"
            auth_login(request, user, backend=pending.backend)  # new session key here
            twofactor.mark_session_verified(request, device)
            if device.model_label() == "otp_static.staticdevice":
                left = twofactor.status_of(user).backup_codes_left
                messages.warning(
                    request,
                    f"You used a backup code; {left} left. Generate new ones on the Security "
                    "page if you are running low.",
                )
            return redirect(_after_login_url(pending.next_url))
        # Counted by django-axes like a wrong password (per account and per address).
        user_login_failed.send(
            sender=__name__,
            credentials={"username": user.email},
            request=request,
            reason="wrong second-factor code",
        )
        failures = twofactor.count_pending_failure(request)
        if failures >= twofactor.PENDING_MAX_FAILURES:
            twofactor.clear_pending_login(request)
            messages.error(request, "Too many wrong codes. Log in again with your password.")
            return redirect("login")
        form.add_error(
            "code",
            "That code is not valid. Codes from an app change every 30 seconds; texted codes "
            "work once, for a limited time.",
        )
    return render(
        request,
        "staff/login_verify.html",
        {
            "form": form,
            "has_totp": twofactor.totp_device(user) is not None,
            "sms": sms,
        },
    )


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's view, plus: every OTHER session of the user ends (this one stays)."""

    def form_valid(self, form):
        response = super().form_valid(form)  # saves, and gives this session a new key
        user = form.user
        ended = end_other_sessions(user, keep_session_key=self.request.session.session_key)
        record(
            actor=user,
            action="account.password_change",
            obj=user,
            request=self.request,
            note=f"{ended} other session(s) ended",
        )
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's view, plus: every session of the user ends, and a lock-out of the account is
    lifted (they proved they own the mailbox)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        end_sessions_of(user)
        unlock(kind="account", value=user.email)
        record(actor=user, action="account.password_reset", obj=user, request=self.request)
        return response


password_change = no_store(PasswordChangeView.as_view())
password_reset_confirm = no_store(PasswordResetConfirmView.as_view())
