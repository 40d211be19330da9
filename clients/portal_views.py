"""Client portal pages of the clients app: a client's own contact details, consents, locations
and equipment. Everything is looked up through the logged-in user, so another client's
objects answer 404 whether they exist or not."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters

from staff.permissions import client_required, public
from staff.security import no_store

from . import invitations
from .accounts import save_client
from .equipment import save_location
from .forms import AcceptInvitationForm, PortalClientForm, PortalLocationForm
from .queries import (
    client_for_portal_user,
    equipment_for_portal_user,
    location_for_portal_user,
    locations_with_equipment,
)


def _not_linked(request):
    return render(request, "clients/portal/not_linked.html")


@client_required
def account(request):
    client = client_for_portal_user(request.user)
    if client is None:
        return _not_linked(request)
    return render(
        request,
        "clients/portal/account.html",
        {"client": client, "locations": locations_with_equipment(client)},
    )


@client_required
def account_edit(request):
    client = client_for_portal_user(request.user)
    if client is None:
        return _not_linked(request)
    form = PortalClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        save_client(client=form.save(commit=False), by=request.user, request=request)
        messages.success(request, "Your details were saved.")
        return redirect("clients_portal:account")
    return render(request, "clients/portal/account_form.html", {"form": form, "client": client})


@client_required
def location_add(request):
    """A client adds a service address (then subscribes to services there)."""
    client = client_for_portal_user(request.user)
    if client is None:
        return _not_linked(request)
    form = PortalLocationForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        location = save_location(location=form.save(commit=False), by=request.user, request=request)
        messages.success(
            request, f"Location “{location.label}” was added. You can now choose services for it."
        )
        return redirect("clients_portal:account")
    return render(request, "clients/portal/location_form.html", {"form": form, "client": client})


@client_required
def location_detail(request, pk: int):
    location = location_for_portal_user(request.user, pk)
    return render(
        request,
        "clients/portal/location.html",
        {"location": location, "equipment": location.equipment.order_by("kind", "serial_number")},
    )


@client_required
def equipment_detail(request, pk: int):
    device = equipment_for_portal_user(request.user, pk)
    return render(request, "clients/portal/equipment.html", {"device": device})


@public
@no_store
@sensitive_post_parameters("password1", "password2")
def accept_invitation(request, token: str):
    """The invited person chooses a password; the login is created and linked to the client."""
    try:
        invitation = invitations.invitation_from_token(token)
    except invitations.InvitationError as exc:
        return render(request, "clients/portal/invitation_invalid.html", {"message": str(exc)})
    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.accept_invitation(
                token=token, password=form.cleaned_data["password1"], request=request
            )
        except invitations.InvitationError as exc:
            return render(
                request,
                "clients/portal/invitation_invalid.html",
                {"message": str(exc)},
                status=400,
            )
        messages.success(request, "Your login is ready. Log in with your email and password.")
        return redirect("login")
    return render(
        request, "clients/portal/invitation.html", {"form": form, "invitation": invitation}
    )
