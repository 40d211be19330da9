"""Reads of the delivery log: the log page's search, and the deliveries of one object."""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet

from .models import Delivery


def deliveries_for(obj: models.Model) -> QuerySet[Delivery]:
    """Every delivery about `obj` (an invoice, a client…), newest first, for its page."""
    return Delivery.objects.filter(
        related_type=ContentType.objects.get_for_model(obj), related_id=obj.pk
    ).select_related("requested_by")


def search_deliveries(
    *, channel: str = "", status: str = "", purpose: str = "", q: str = ""
) -> QuerySet[Delivery]:
    deliveries = Delivery.objects.select_related("requested_by", "related_type")
    if channel:
        deliveries = deliveries.filter(channel=channel)
    if status:
        deliveries = deliveries.filter(status=status)
    if purpose:
        deliveries = deliveries.filter(purpose=purpose)
    if q:
        deliveries = deliveries.filter(
            Q(to__icontains=q) | Q(cc__icontains=q) | Q(bcc__icontains=q)
        )
    return deliveries


def known_purposes() -> list[str]:
    return list(
        Delivery.objects.exclude(purpose="")
        .order_by("purpose")
        .values_list("purpose", flat=True)
        .distinct()
    )
