"""Profile (every user) and team management (admins only)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from .account_changes import (
    AccountChangeError,
    confirm_email_change,
    confirm_phone_change,
    pending_phone_change,
    read_email_change_token,
)
from .audit import snapshot
from .forms import (
    NewTeamMemberForm,
    PhoneCodeForm,
    ProfileForm,
    TeamMemberForm,
    TeamSearchForm,
)
from .lockout import locked_usernames
from .models import SMSDevice, User
from .permissions import admin_required, login_required_any_role, public
from .profile import PROFILE_FIELDS, save_profile
from .security import no_store
from .team import (
    TeamRuleError,
    deactivate_user,
    reactivate_user,
    save_team_member,
    send_password_link,
    team_members,
)


def _get_team_member(pk: int) -> User:
    """Admins and staff only: a client account is not reachable through team pages."""
    return get_object_or_404(team_members(), pk=pk)


@login_required_any_role
@no_store
def profile(request):
    before = snapshot(request.user, PROFILE_FIELDS)
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = save_profile(user=form.save(commit=False), before=before, request=request)
        except AccountChangeError as exc:
            form.add_error("phone", str(exc))
        else:
            if outcome.email_pending:
                messages.info(
                    request,
                    f"We emailed a link to {outcome.email_pending}. Your login address changes "
                    "when you confirm it there (the link works for 24 hours).",
                )
            if outcome.phone_pending:
                messages.info(request, f"We texted a code to {outcome.phone_pending}.")
                return redirect("accounts:phone_verify")
            messages.success(request, "Your profile has been saved.")
            return redirect("accounts:profile")
    if request.method == "POST":
        request.user.refresh_from_db()  # the form changed it in memory; the menu shows the saved one
    return render(
        request,
        "staff/profile.html",
        {"form": form, "pending_phone": pending_phone_change(request.session)},
    )


@login_required_any_role
@no_store
def phone_verify(request):
    """Type back the code texted to the new number; the number changes only then."""
    pending = pending_phone_change(request.session)
    if pending is None:
        messages.info(request, "No phone number is waiting for a code. Change it here first.")
        return redirect("accounts:profile")
    form = PhoneCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            confirm_phone_change(
                user=request.user,
                code=form.cleaned_data["code"],
                session=request.session,
                request=request,
            )
        except AccountChangeError as exc:
            if pending_phone_change(request.session) is None:
                messages.error(request, str(exc))
                return redirect("accounts:profile")
            form.add_error("code", str(exc))
        else:
            messages.success(request, f"Your phone number is now {pending['number']} (verified).")
            return redirect("accounts:profile")
    return render(request, "staff/phone_verify.html", {"form": form, "number": pending["number"]})


@public
@no_store
def email_confirm(request, token: str):
    """GET shows a button, POST changes the address: mail scanners that open links must not
    change anyone's login on their own. The signed link is the proof; no log-in needed."""
    if request.method == "POST":
        try:
            user = confirm_email_change(token=token, request=request)
        except AccountChangeError as exc:
            return render(
                request, "staff/email_confirm_invalid.html", {"message": str(exc)}, status=400
            )
        messages.success(request, f"Your login address is now {user.email}.")
        if request.user.is_authenticated and request.user.pk == user.pk:
            return redirect("accounts:profile")
        return redirect("login")
    found = read_email_change_token(token)
    if found is None:
        return render(
            request,
            "staff/email_confirm_invalid.html",
            {"message": "This link has expired or has already been used."},
        )
    user, new_email = found
    return render(
        request, "staff/email_confirm.html", {"old_email": user.email, "new_email": new_email}
    )


@admin_required
def team_list(request):
    search = TeamSearchForm(request.GET or None)
    members = team_members().order_by("last_name", "first_name", "email")
    if search.is_valid():
        q = search.cleaned_data["q"].strip()
        if q:
            members = members.filter(
                Q(email__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q)
            )
        if search.cleaned_data["role"]:
            members = members.filter(role=search.cleaned_data["role"])
        if search.cleaned_data["status"]:
            members = members.filter(is_active=search.cleaned_data["status"] == "active")
    members = members.annotate(
        has_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        has_sms=Exists(SMSDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
    )
    page = Paginator(members, 25).get_page(request.GET.get("page"))
    locked = locked_usernames(member.email for member in page)
    return render(
        request, "staff/team_list.html", {"search": search, "page": page, "locked": locked}
    )


@admin_required
def team_create(request):
    form = NewTeamMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data.get("password1") or ""
        member = save_team_member(
            user=form.save(commit=False),
            changed_by=request.user,
            password=password,
            request=request,
        )
        if not password:
            send_password_link(user=member, request=request, by=request.user)
            messages.success(request, f"{member} was added and emailed a link to set a password.")
        else:
            messages.success(request, f"{member} was added and can log in now.")
        return redirect("staff:team_list")
    return render(request, "staff/team_form.html", {"form": form, "creating": True})


@admin_required
def team_edit(request, pk: int):
    member = _get_team_member(pk)
    form = TeamMemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        try:
            save_team_member(user=form.save(commit=False), changed_by=request.user, request=request)
        except TeamRuleError as exc:
            form.add_error("role", str(exc))
        else:
            messages.success(request, f"{member} was saved.")
            return redirect("staff:team_list")
    return render(request, "staff/team_form.html", {"form": form, "member": member})


@admin_required
@require_POST
def team_deactivate(request, pk: int):
    member = _get_team_member(pk)
    try:
        deactivate_user(user=member, by=request.user, request=request)
    except TeamRuleError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{member} was deactivated and logged out everywhere.")
    return redirect("staff:team_list")


@admin_required
@require_POST
def team_reactivate(request, pk: int):
    member = _get_team_member(pk)
    reactivate_user(user=member, by=request.user, request=request)
    messages.success(request, f"{member} can log in again.")
    return redirect("staff:team_list")


@admin_required
@require_POST
def team_send_password_link(request, pk: int):
    member = _get_team_member(pk)
    if send_password_link(user=member, request=request, by=request.user):
        messages.success(request, f"A password link was emailed to {member.email}.")
    else:
        messages.error(request, "Reactivate the account before sending a password link.")
    return redirect("staff:team_list")
