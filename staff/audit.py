"""The audit log: who did what, to what, when, from where, with the values before and after.

Every app records its own actions here, inside the transaction that makes the change (so a
rolled-back change leaves no entry)::

    from staff.audit import diff, record, snapshot

    before = snapshot(client, FIELDS)
    ...change and save client...
    record(actor=request.user, action="client.update", obj=client,
           changes=diff(before, client, FIELDS), request=request)

Action names are "<thing>.<verb>" in lower case (`invoice.issue`, `payment.refund`); the ones
this app writes are listed in ACTIONS. Every other app lists its own with readable labels in an
`AUDIT_ACTIONS` dict set on its AppConfig (`audit_actions = AUDIT_ACTIONS` in its apps.py);
`action_labels()` collects them through the app registry, so this low app never imports a
higher one. Entries are append-only (see staff.models.AuditEntry).
"""

import datetime
import decimal
import enum
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.apps import apps
from django.db import models
from django.http import HttpRequest

from .lockout import client_ip
from .models import AuditEntry

# Actions written by the accounts app; other apps add theirs freely (any "<thing>.<verb>").
ACTIONS = {
    "auth.login": "Logged in",
    "auth.login_failed": "Failed log-in",
    "auth.lockout": "Locked out after too many failures",
    "auth.login_blocked": "Log-in refused while locked out",
    "auth.logout": "Logged out",
    "auth.idle_timeout": "Logged out after inactivity",
    "account.password_change": "Changed own password",
    "account.password_reset": "Set a new password by emailed link",
    "account.profile_update": "Updated own profile",
    "account.email_change_request": "Asked to change own email address (link sent to it)",
    "account.email_change": "Changed own email address (confirmed by link)",
    "account.phone_change": "Changed own phone number",
    "account.sessions_ended": "Logged out other sessions",
    "2fa.totp_enable": "Turned on authenticator app",
    "2fa.totp_disable": "Turned off authenticator app",
    "2fa.sms_enable": "Turned on SMS codes",
    "2fa.sms_disable": "Turned off SMS codes",
    "2fa.backup_codes": "Generated new backup codes",
    "2fa.disable": "Turned off two-factor authentication",
    "staff.create": "Added a team member",
    "staff.update": "Edited a team member",
    "staff.role_change": "Changed a role",
    "staff.deactivate": "Deactivated an account",
    "staff.reactivate": "Reactivated an account",
    "staff.password_link": "Sent a password link",
    "staff.2fa_reset": "Reset someone's second factor",
    "staff.unlock": "Unlocked a locked-out log-in",
    "security.policy_change": "Changed the security policy",
    "signup.request": "Asked to sign up",
    "signup.complete": "Signed up (email verified)",
}


def action_labels() -> dict[str, str]:
    """Every registered action and its label: this app's ACTIONS, then each installed app's
    `audit_actions` (read from its AppConfig, in INSTALLED_APPS order)."""
    labels = dict(ACTIONS)
    for config in apps.get_app_configs():
        labels.update(getattr(config, "audit_actions", None) or {})
    return labels


def action_kinds() -> list[str]:
    """The "<thing>" parts of the registered actions, sorted: what the kind filter offers."""
    return sorted({action.split(".", 1)[0] for action in action_labels()})


def label_for(action: str) -> str:
    return action_labels().get(action, "")


_MAX_TEXT = {"actor_label": 254, "object_repr": 200, "note": 500, "object_type": 100}


def _clean_text(value: str, limit: int) -> str:
    # Whatever a user typed may end up here (an email tried at log-in): no NUL bytes, which
    # PostgreSQL refuses, and never longer than the column.
    return str(value).replace("\x00", "").strip()[:limit]


def plain(value: Any) -> Any:
    """A value as JSON can keep it: what an admin reads in the log, not a Python object."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return f"{value} (#{value.pk})"
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return str(value)


def snapshot(obj: models.Model | Mapping, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of `fields`, taken before a change so `diff` can compare."""
    if isinstance(obj, Mapping):
        return {f: plain(obj.get(f)) for f in fields}
    return {f: plain(getattr(obj, f, None)) for f in fields}


def diff(
    before: models.Model | Mapping,
    after: models.Model | Mapping,
    fields: Iterable[str],
) -> dict[str, list]:
    """{"field": [before, after]} for each of `fields` whose value changed.

    `before` is usually a `snapshot()` dict taken before the change (a model instance works
    when you hold an unchanged copy); `after` the saved object."""
    fields = list(fields)
    old = snapshot(before, fields)
    new = snapshot(after, fields)
    return {f: [old[f], new[f]] for f in fields if old[f] != new[f]}


def created(obj: models.Model | Mapping, fields: Iterable[str]) -> dict[str, list]:
    """{"field": [None, value]} for a new object: its fields that hold something."""
    return {f: [None, v] for f, v in snapshot(obj, fields).items() if v not in (None, "")}


def removed(obj: models.Model | Mapping, fields: Iterable[str]) -> dict[str, list]:
    """{"field": [value, None]} for an object about to be deleted."""
    return {f: [v, None] for f, v in snapshot(obj, fields).items() if v not in (None, "")}


def record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    changes: dict | None = None,
    request: HttpRequest | None = None,
    note: str = "",
) -> AuditEntry:
    """Append one entry. `actor` is the user who acted (None or anonymous for the system or a
    visitor); `obj` what was acted on; `changes` {"field": [before, after]}."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    entry = AuditEntry(
        actor=actor,
        actor_label=_clean_text(actor.email, _MAX_TEXT["actor_label"]) if actor else "",
        action=_clean_text(action, 64),
        changes=plain(changes or {}),
        note=_clean_text(note, _MAX_TEXT["note"]),
        ip_address=client_ip(request) if request is not None else None,
    )
    if obj is not None:
        entry.object_type = obj._meta.label_lower
        entry.object_id = str(obj.pk) if obj.pk is not None else ""
        entry.object_repr = _clean_text(str(obj), _MAX_TEXT["object_repr"])
    entry.save()
    return entry
