"""Giving a client a portal login from the staff client page.

`link_or_invite` (staff): if a client-role login with the address exists and belongs to no
client, it is linked at once; otherwise the address is emailed a signed link that expires after
INVITATION_MAX_AGE. `accept_invitation` (the invited person): sets a password, creates the
login (role client) and links it, in one transaction with the client row locked, so a link
used twice, or a client that got a login meanwhile, never ends with two logins.

The link carries the client and the address, signed; nothing is stored until it is accepted.
It stops working as soon as the client has a login, whoever gave it one.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from cms_project.messaging.sending import queue_email
from staff.audit import record
from staff.models import Role, User

from .models import Client

SALT = "clients.invitations.portal"
INVITATION_MAX_AGE = timedelta(days=7)


class InvitationError(Exception):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Invitation:
    client: Client
    email: str


def make_token(*, client: Client, email: str) -> str:
    return signing.dumps({"c": client.pk, "e": email}, salt=SALT, compress=True)


def invitation_from_token(token: str, *, for_update: bool = False) -> Invitation:
    """The invitation a link stands for, if it is still good; InvitationError otherwise."""
    try:
        data = signing.loads(token, salt=SALT, max_age=INVITATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvitationError("This invitation has expired. Ask us to send you a new one.") from exc
    except signing.BadSignature as exc:
        raise InvitationError("This invitation link is not valid.") from exc
    if not isinstance(data, dict):
        raise InvitationError("This invitation link is not valid.")
    clients = Client.objects.select_for_update() if for_update else Client.objects
    client = clients.filter(pk=data.get("c")).first()
    if client is None:
        raise InvitationError("This invitation link is not valid.")
    if client.user_id is not None:
        raise InvitationError(
            "This account already has a portal login. Log in, or use “Forgot your password?” "
            "on the log-in page."
        )
    return Invitation(client=client, email=str(data.get("e", "")))


def _split_name(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first[:150], last.strip()[:150]


@transaction.atomic
def link_or_invite(*, client: Client, email: str, by: User, request: HttpRequest) -> str:
    """Link an existing client login with this address, or email an invitation.
    Returns "linked" or "invited"; InvitationError(field="email") when neither is possible."""
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.user_id is not None:
        raise InvitationError(f"{client.display_name} already has a portal login.", field="email")
    email = email.strip().lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if existing.role != Role.CLIENT:
            raise InvitationError(
                "This address belongs to a staff account; a client needs its own.", field="email"
            )
        other = Client.objects.filter(user=existing).first()
        if other is not None:
            raise InvitationError(
                f"This login already belongs to {other.display_name} ({other.account_number}).",
                field="email",
            )
        client.user = existing
        client.save(update_fields=["user", "updated_at"])
        record(actor=by, action="client.portal_link", obj=client, request=request, note=email)
        return "linked"
    link = request.build_absolute_uri(
        reverse("clients_portal:invitation", args=[make_token(client=client, email=email)])
    )
    context = {
        "client": client,
        "link": link,
        "days": INVITATION_MAX_AGE.days,
        "company_name": settings.COMPANY["name"],
    }
    queue_email(
        to=[email],
        subject=render_to_string("clients/email/portal_invitation_subject.txt", context),
        body=render_to_string("clients/email/portal_invitation_body.txt", context),
        purpose="portal_invitation",
        related=client,
    )
    record(actor=by, action="client.portal_invite", obj=client, request=request, note=email)
    return "invited"


@transaction.atomic
def accept_invitation(*, token: str, password: str, request: HttpRequest | None) -> User:
    """Create the portal login of an invitation and link it to its client (single use)."""
    invitation = invitation_from_token(token, for_update=True)
    client, email = invitation.client, invitation.email
    if User.objects.filter(email__iexact=email).exists():
        raise InvitationError(
            "A login with this email address already exists. Log in, or ask us to link it to "
            "your account."
        )
    first_name, last_name = _split_name(client.name)
    try:
        with transaction.atomic():  # a savepoint: the address taken a moment ago
            user = User(
                email=email,
                first_name=first_name,
                last_name=last_name,
                role=Role.CLIENT,
                is_active=True,
            )
            user.set_password(password)
            user.save()
    except IntegrityError as exc:
        raise InvitationError("A login with this email address already exists.") from exc
    client.user = user
    client.save(update_fields=["user", "updated_at"])
    record(actor=user, action="client.portal_invite_accept", obj=client, request=request)
    return user
