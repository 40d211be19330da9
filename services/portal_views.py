"""Client portal pages: the catalog, subscribing a location (with the cost shown before
confirming), the client's subscriptions and monthly bill, and cancelling.

A client only ever reaches their own locations and subscriptions; anything else is a 404, so
another client's records are not even confirmed to exist."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clients.models import Client, ServiceLocation
from staff.permissions import client_required

from .catalog import catalog_for_clients
from .forms import MonthForm
from .models import Service, Subscription
from .monthly_bill import monthly_bill
from .subscriptions import (
    cancel_subscription,
    default_cancellation_date,
    locations_of,
    subscribe_from_portal,
    subscribe_preview,
    subscriptions_of_client,
)


def _client_of(user) -> Client | None:
    try:
        return user.client_account
    except Client.DoesNotExist:
        return None


def _require_client(request) -> Client:
    client = _client_of(request.user)
    if client is None:
        raise Http404("This login has no client account.")
    return client


def _get_visible_service(pk: int) -> Service:
    return get_object_or_404(catalog_for_clients(), pk=pk)


def _get_own_location(client: Client, pk: int) -> ServiceLocation:
    return get_object_or_404(locations_of(client), pk=pk)


def _get_own_subscription(client: Client, pk: int) -> Subscription:
    return get_object_or_404(subscriptions_of_client(client), pk=pk)


@client_required
def my_services(request):
    client = _client_of(request.user)
    if client is None:
        return render(request, "services/portal/no_account.html")
    today = timezone.localdate()
    year, month = MonthForm(request.GET).period(today)
    return render(
        request,
        "services/portal/my_services.html",
        {
            "client": client,
            "subscriptions": subscriptions_of_client(client),
            "bill": monthly_bill(client=client, year=year, month=month),
            "cancel_date": default_cancellation_date(today),
        },
    )


@client_required
def catalog(request):
    return render(
        request,
        "services/portal/catalog.html",
        {"services": catalog_for_clients(), "has_account": _client_of(request.user) is not None},
    )


@client_required
def service_page(request, pk: int):
    """A service, what it costs, and which of the client's locations can get it."""
    client = _require_client(request)
    service = _get_visible_service(pk)
    open_here = dict(
        Subscription.objects.open()
        .filter(service=service, location__client=client)
        .values_list("location_id", "status")
    )
    locations = [
        (
            location,
            Subscription.Status(open_here[location.pk]).label if location.pk in open_here else "",
        )
        for location in locations_of(client)
    ]
    return render(
        request,
        "services/portal/service.html",
        {
            "service": service,
            "preview": subscribe_preview(service=service),
            "locations": locations,
        },
    )


@client_required
def subscribe(request, pk: int, location_pk: int):
    """GET: what subscribing this location costs; POST: confirm."""
    client = _require_client(request)
    service = _get_visible_service(pk)
    location = _get_own_location(client, location_pk)
    error = ""
    if request.method == "POST":
        try:
            subscription = subscribe_from_portal(
                client=client,
                service=service,
                location=location,
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            if subscription.status == Subscription.Status.ACTIVE:
                messages.success(request, f"{service.name} is active at {location.label}.")
            else:
                messages.success(
                    request,
                    f"Thank you: {service.name} at {location.label} is requested. Our team will "
                    "contact you to activate it; billing starts on the day it is active.",
                )
            return redirect("services_portal:my_services")
    return render(
        request,
        "services/portal/subscribe.html",
        {
            "service": service,
            "location": location,
            "preview": subscribe_preview(service=service),
            "error": error,
        },
        status=200,
    )


@client_required
@require_POST
def cancel(request, pk: int):
    client = _require_client(request)
    subscription = _get_own_subscription(client, pk)
    try:
        cancel_subscription(subscription=subscription, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if subscription.status == Subscription.Status.CANCELLED:
            messages.success(request, f"Your request for {subscription.service.name} is cancelled.")
        else:
            end = subscription.end_date
            messages.success(
                request,
                f"{subscription.service.name} at {subscription.location.label} ends on "
                f"{end:%B} {end.day}, {end.year}, the end of the billing period.",
            )
    return redirect("services_portal:my_services")
