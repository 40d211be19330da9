"""Client portal pages of the clients app: a client's own contact details, consents, locations
and equipment. Everything is looked up through the logged-in user, so another client's
objects answer 404 whether they exist or not."""

from django.contrib import messages
from django.shortcuts import redirect, render

from staff.permissions import client_required

from .accounts import save_client
from .equipment import save_location
from .forms import PortalClientForm, PortalLocationForm
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
