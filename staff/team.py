"""Managing the company's own accounts (admins and staff). Called by the team views.

Every action is written to the audit log (staff.audit) in the same transaction.
"""

from django.db import transaction
from django.http import HttpRequest

from .audit import diff, record, snapshot
from .mail import PasswordLinkForm
from .models import Role, User, end_sessions_of

AUDITED_FIELDS = ["first_name", "last_name", "email", "role", "phone", "is_active"]


class TeamRuleError(Exception):
    """An action on an account that would leave the company locked out or is otherwise refused."""


def team_members():
    return User.objects.filter(role__in=(Role.ADMIN, Role.STAFF))


def _check_not_last_admin(user: User) -> None:
    if user.role == Role.ADMIN and user.is_active:
        other_admins = team_members().filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk)
        if not other_admins.exists():
            raise TeamRuleError("This is the last active admin; make someone else an admin first.")


@transaction.atomic
def save_team_member(
    *, user: User, changed_by: User, password: str = "", request: HttpRequest | None = None
) -> User:
    """Create or update an admin/staff account. A new account without a password gets an
    unusable one until the member sets it through the emailed link."""
    if user.pk:
        previous = User.objects.select_for_update().get(pk=user.pk)
        if previous.role == Role.ADMIN and user.role != Role.ADMIN:
            if previous.pk == changed_by.pk:
                raise TeamRuleError("You cannot remove your own admin role.")
            _check_not_last_admin(previous)
        before = snapshot(previous, AUDITED_FIELDS)
        user.save()
        changes = diff(before, user, AUDITED_FIELDS)
        if changes:
            action = "staff.role_change" if "role" in changes else "staff.update"
            record(actor=changed_by, action=action, obj=user, changes=changes, request=request)
        return user
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    record(
        actor=changed_by,
        action="staff.create",
        obj=user,
        changes={f: [None, v] for f, v in snapshot(user, AUDITED_FIELDS).items()},
        request=request,
        note="with a first password" if password else "password link emailed",
    )
    return user


@transaction.atomic
def deactivate_user(*, user: User, by: User, request: HttpRequest | None = None) -> None:
    """Block log-in and end every session the user has open right now."""
    if user.pk == by.pk:
        raise TeamRuleError("You cannot deactivate your own account.")
    _check_not_last_admin(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    ended = end_sessions_of(user)
    record(
        actor=by,
        action="staff.deactivate",
        obj=user,
        changes={"is_active": [True, False]},
        request=request,
        note=f"{ended} session(s) ended",
    )


@transaction.atomic
def reactivate_user(*, user: User, by: User, request: HttpRequest | None = None) -> None:
    was_active = user.is_active
    user.is_active = True
    user.save(update_fields=["is_active"])
    record(
        actor=by,
        action="staff.reactivate",
        obj=user,
        changes={"is_active": [was_active, True]} if not was_active else None,
        request=request,
    )


def send_password_link(*, user: User, request: HttpRequest, by: User | None = None) -> bool:
    """Email the user a one-time link to set a new password. Returns False for an account
    that cannot receive one (inactive)."""
    if not user.is_active:
        return False
    form = PasswordLinkForm(data={"email": user.email})
    form.is_valid()
    # PasswordResetForm skips users with unusable passwords; new members have one, so we
    # pass the user explicitly through get_users.
    form.get_users = lambda email: [user]
    form.save(
        request=request,
        use_https=request.is_secure(),
        email_template_name="registration/password_reset_email.txt",
        subject_template_name="registration/password_reset_subject.txt",
    )
    record(
        actor=by or getattr(request, "user", None),
        action="staff.password_link",
        obj=user,
        request=request,
    )
    return True
