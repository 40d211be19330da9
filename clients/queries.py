"""Reads for the pages: each a fixed number of queries, however many locations or devices."""

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from staff.models import User

from .models import Client, Equipment, FollowUpTask, Interaction, ServiceLocation

TIMELINE_LENGTH = 20


def locations_with_equipment(client: Client) -> QuerySet:
    return client.locations.order_by("label", "pk").prefetch_related(
        Prefetch("equipment", queryset=Equipment.objects.order_by("kind", "serial_number"))
    )


def account_overview(client: Client) -> dict:
    """Everything the staff client page shows: locations with their equipment, the latest
    interactions, open tasks (5 queries)."""
    interactions = list(client.interactions.select_related("logged_by")[: TIMELINE_LENGTH + 1])
    return {
        "locations": list(locations_with_equipment(client)),
        "interactions": interactions[:TIMELINE_LENGTH],
        "more_interactions": len(interactions) > TIMELINE_LENGTH,
        "tasks": list(
            client.tasks.filter(status__in=FollowUpTask.OPEN_STATUSES).select_related("assignee")
        ),
        "today": timezone.localdate(),
    }


def client_for_portal_user(user: User) -> Client | None:
    """The client account behind a portal login, or None while none is linked."""
    return Client.objects.filter(user=user).first()


def location_for_portal_user(user: User, pk: int) -> ServiceLocation:
    """A location of the user's own client account; any other is 404, existing or not."""
    return get_object_or_404(
        ServiceLocation.objects.select_related("client"), pk=pk, client__user=user
    )


def equipment_for_portal_user(user: User, pk: int) -> Equipment:
    return get_object_or_404(
        Equipment.objects.select_related("location__client"), pk=pk, location__client__user=user
    )


def interactions_of(client: Client) -> QuerySet:
    return Interaction.objects.filter(client=client).select_related("logged_by")
