"""The Security page every user has (/accounts/security/), and the admins' security pages:
the 2FA policy, lock-outs, resetting someone's second factor."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from . import twofactor
from .audit import record
from .forms import ConfirmPasswordForm, OTPCodeForm, SecurityPolicyForm, SMSSetupForm, UnlockForm
from .lockout import cooloff_minutes, current_lockouts, unlock
from .models import SecurityPolicy, User, UserSession, end_other_sessions
from .permissions import admin_required, login_required_any_role
from .security import no_store


def _backup_codes_page(request, codes: list[str], *, first_time: bool):
    # Shown once, in this response only: never stored readable, never cached.
    return render(
        request,
        "staff/security_backup_codes.html",
        {"codes": [twofactor.format_backup_code(c) for c in codes], "first_time": first_time},
    )


@login_required_any_role
@no_store
def security(request):
    user = request.user
    other_sessions = (
        UserSession.objects.filter(user_id=user.pk)
        .exclude(session_key=request.session.session_key)
        .count()
    )
    return render(
        request,
        "staff/security.html",
        {
            "status": twofactor.status_of(user),
            "required": twofactor.required_for(user),
            "password_form": ConfirmPasswordForm(user),
            "other_sessions": other_sessions,
            "idle_minutes": settings.STAFF_IDLE_TIMEOUT_MINUTES,
            "max_hours": settings.SESSION_COOKIE_AGE // 3600,
        },
    )


@login_required_any_role
@sensitive_post_parameters("code")
@no_store
def security_totp(request):
    """Set up an authenticator app: scan, then type a code to prove it works."""
    user = request.user
    if twofactor.totp_device(user) is not None:
        messages.info(request, "Your authenticator app is already set up.")
        return redirect("accounts:security")
    form = OTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.confirm_totp(request=request, code=form.cleaned_data["code"])
        except twofactor.CodeRefused as exc:
            form.add_error("code", str(exc))
        else:
            twofactor.mark_session_verified(request, twofactor.totp_device(user))
            messages.success(
                request,
                "Your authenticator app is on. You will be asked for a code at each log-in.",
            )
            if codes:
                return _backup_codes_page(request, codes, first_time=True)
            return redirect("accounts:security")
    device = twofactor.totp_setup_device(request)
    return render(
        request,
        "staff/security_totp.html",
        {
            "form": form,
            "qr": twofactor.totp_qr_data_uri(device),
            "secret": twofactor.totp_secret(device),
        },
    )


@login_required_any_role
@sensitive_post_parameters("password")
@no_store
def security_sms(request):
    """Set up SMS codes: the number, the password (it becomes the account's phone), a code."""
    user = request.user
    form = SMSSetupForm(user, request.POST or None, initial={"number": user.phone})
    if request.method == "POST" and form.is_valid():
        try:
            twofactor.start_sms_setup(user=user, number=form.cleaned_data["number"])
        except twofactor.SMSNotSent as exc:
            form.add_error("number", str(exc))
        else:
            return redirect("accounts:security_sms_verify")
    return render(request, "staff/security_sms.html", {"form": form})


@login_required_any_role
@sensitive_post_parameters("code")
@no_store
def security_sms_verify(request):
    user = request.user
    device = twofactor.sms_device(user, confirmed=False)
    if device is None:
        return redirect("accounts:security_sms")
    if request.method == "POST" and "resend" in request.POST:
        try:
            twofactor.send_sms_code(device=device)
        except twofactor.SMSNotSent as exc:
            messages.warning(request, str(exc))
        else:
            messages.success(request, f"A new code was texted to {device.masked_number}.")
        return redirect("accounts:security_sms_verify")
    form = OTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.confirm_sms(
                user=user, code=form.cleaned_data["code"], request=request
            )
        except twofactor.CodeRefused as exc:
            form.add_error("code", str(exc))
        else:
            twofactor.mark_session_verified(request, twofactor.sms_device(user))
            messages.success(request, f"SMS codes are on, sent to {device.masked_number}.")
            if codes:
                return _backup_codes_page(request, codes, first_time=True)
            return redirect("accounts:security")
    return render(
        request,
        "staff/security_sms_verify.html",
        {"form": form, "device": device, "valid_minutes": settings.SMS_CODE_VALID_MINUTES},
    )


def _with_password(request, action, success: str):
    """Run `action(user=..., request=...)` if the password typed is right; back to the page."""
    form = ConfirmPasswordForm(request.user, request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was changed: " + " ".join(form.errors.get("password", [])))
        return redirect("accounts:security")
    try:
        result = action(user=request.user, request=request)
    except (twofactor.TwoFactorRequired, twofactor.CodeRefused) as exc:
        messages.error(request, str(exc))
        return redirect("accounts:security")
    messages.success(request, success)
    return result


@login_required_any_role
@require_POST
@sensitive_post_parameters("password")
@no_store
def security_totp_disable(request):
    result = _with_password(request, twofactor.disable_totp, "Your authenticator app is off.")
    return result or redirect("accounts:security")


@login_required_any_role
@require_POST
@sensitive_post_parameters("password")
@no_store
def security_sms_disable(request):
    result = _with_password(request, twofactor.disable_sms, "SMS codes are off.")
    return result or redirect("accounts:security")


@login_required_any_role
@require_POST
@sensitive_post_parameters("password")
@no_store
def security_disable(request):
    result = _with_password(
        request, twofactor.disable_all, "Two-factor authentication is off for your account."
    )
    return result or redirect("accounts:security")


@login_required_any_role
@require_POST
@sensitive_post_parameters("password")
@no_store
def security_backup_codes(request):
    form = ConfirmPasswordForm(request.user, request.POST)
    if not form.is_valid():
        messages.error(request, "No new codes: " + " ".join(form.errors.get("password", [])))
        return redirect("accounts:security")
    try:
        codes = twofactor.regenerate_backup_codes(user=request.user, request=request)
    except twofactor.CodeRefused as exc:
        messages.error(request, str(exc))
        return redirect("accounts:security")
    return _backup_codes_page(request, codes, first_time=False)


@login_required_any_role
@require_POST
def security_end_other_sessions(request):
    ended = end_other_sessions(request.user, keep_session_key=request.session.session_key)
    record(
        actor=request.user,
        action="account.sessions_ended",
        obj=request.user,
        request=request,
        note=f"{ended} session(s)",
    )
    messages.success(request, f"Logged out of {ended} other session(s).")
    return redirect("accounts:security")


# --- Admins ---------------------------------------------------------------------------------
@admin_required
@no_store
def security_admin(request):
    policy = SecurityPolicy.current()
    form = SecurityPolicyForm(
        request.POST or None, initial={"require_2fa_for_staff": policy.require_2fa_for_staff}
    )
    if request.method == "POST" and form.is_valid():
        twofactor.set_policy(
            require_2fa_for_staff=form.cleaned_data["require_2fa_for_staff"],
            by=request.user,
            request=request,
        )
        messages.success(request, "The security policy was saved.")
        return redirect("staff:security_admin")
    return render(
        request,
        "staff/security_admin.html",
        {
            "form": form,
            "policy": policy,
            "lockouts": current_lockouts(),
            "cooloff_minutes": cooloff_minutes(),
            "lockout_limit": settings.AXES_FAILURE_LIMIT,
        },
    )


@admin_required
@require_POST
def security_unlock(request):
    form = UnlockForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing to unlock.")
        return redirect("staff:security_admin")
    kind, value = form.cleaned_data["kind"], form.cleaned_data["value"]
    removed = unlock(kind=kind, value=value)
    account = User.objects.filter(email__iexact=value).first() if kind == "account" else None
    record(
        actor=request.user,
        action="staff.unlock",
        obj=account,
        request=request,
        note=f"{kind} {value}: {removed} record(s) of failures cleared",
    )
    messages.success(
        request, f"{'Account' if kind == 'account' else 'Address'} {value} can log in again."
    )
    target = request.POST.get("return_to")
    return redirect("staff:team_list" if target == "team" else "staff:security_admin")


@admin_required
@require_POST
def user_2fa_reset(request, pk: int):
    member = get_object_or_404(User, pk=pk)
    twofactor.reset_second_factor(user=member, by=request.user, request=request)
    messages.success(
        request,
        f"{member}'s second factor was removed and they were logged out. They can log in with "
        "their password and set it up again.",
    )
    # The client page (clients app) may post here too, naming where to come back to.
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}
    ):
        return HttpResponseRedirect(next_url)
    return redirect("staff:team_list")
