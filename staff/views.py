"""Profile (every user) and team management (admins only)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import snapshot
from .forms import NewTeamMemberForm, ProfileForm, TeamMemberForm, TeamSearchForm
from .lockout import locked_usernames
from .models import SMSDevice, User
from .permissions import admin_required, login_required_any_role
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
        save_profile(user=form.save(commit=False), before=before, request=request)
        messages.success(request, "Your profile has been saved.")
        return redirect("accounts:profile")
    if request.method == "POST":
        request.user.refresh_from_db()  # the form changed it in memory; the menu shows the saved one
    return render(request, "staff/profile.html", {"form": form})


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
