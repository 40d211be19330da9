"""The service catalog: creating and changing services, their prices over time, and the
catalog as staff and clients see it.

Price rules (GUIDE §2): a price change takes effect from a date, today or later; prices already
in effect are never edited, so past bills and invoices can always be recomputed. A scheduled
(future) price may be replaced or withdrawn until its day comes.
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, When
from django.http import HttpRequest
from django.utils import timezone

from cms_project.money import format_money
from staff.audit import created, diff, record, removed, snapshot

from .models import Service, ServicePrice, Subscription

# What the audit log keeps of a service, before and after each change.
AUDIT_FIELDS = [
    "name",
    "category",
    "description",
    "billing_cycle",
    "tax_rate",
    "is_active",
    "visible_to_clients",
    "self_service",
]


# --- Reading prices ------------------------------------------------------------------------
def price_from_history(prices, on: date) -> Decimal | None:
    """The amount in effect on a day, from an already-loaded list of a service's prices
    (any order): the latest `effective_from` not after that day."""
    best = None
    for price in prices:
        if price.effective_from <= on and (
            best is None or price.effective_from > best.effective_from
        ):
            best = price
    return best.amount if best else None


def price_in_effect(*, service: Service, on: date) -> Decimal | None:
    """The list price of a service on a day, or None if it had no price yet then."""
    if "prices" in getattr(service, "_prefetched_objects_cache", {}):
        return price_from_history(service.prices.all(), on)
    row = (
        ServicePrice.objects.filter(service=service, effective_from__lte=on)
        .order_by("-effective_from")
        .values_list("amount", flat=True)
        .first()
    )
    return row


def current_price_subquery(on: date) -> Subquery:
    """For annotating services with their price in effect on a day, in the same query."""
    return Subquery(
        ServicePrice.objects.filter(service=OuterRef("pk"), effective_from__lte=on)
        .order_by("-effective_from")
        .values("amount")[:1]
    )


def category_order() -> Case:
    """Categories in the order the catalog lists them: internet, TV, phone, rentals, fees."""
    return Case(
        *(When(category=value, then=index) for index, value in enumerate(Service.Category.values)),
        default=len(Service.Category.values),
    )


def catalog_for_staff(*, today: date | None = None) -> QuerySet[Service]:
    """Every service with its current price and active subscriber count: one query.
    Subscribers are distinct clients with an active subscription to the service."""
    today = today or timezone.localdate()
    return Service.objects.annotate(
        current_price=current_price_subquery(today),
        active_subscribers=Count(
            "subscriptions__location__client",
            filter=Q(subscriptions__status=Subscription.Status.ACTIVE),
            distinct=True,
        ),
        active_subscriptions=Count(
            "subscriptions",
            filter=Q(subscriptions__status=Subscription.Status.ACTIVE),
            distinct=True,
        ),
    ).order_by("-is_active", category_order(), "name", "pk")


def catalog_for_clients(*, today: date | None = None) -> QuerySet[Service]:
    """What clients may browse and subscribe to: active, client-visible, priced services."""
    today = today or timezone.localdate()
    return (
        Service.objects.filter(is_active=True, visible_to_clients=True)
        .annotate(current_price=current_price_subquery(today))
        .filter(current_price__isnull=False)
        .order_by(category_order(), "name", "pk")
    )


# --- Rules ----------------------------------------------------------------------------------
def _check_price_point_free(
    *, name: str, amount: Decimal, on: date, exclude: Service | None, field: str
) -> None:
    """One catalog entry per price point: no other active service of the same name may have
    the same price on that day (the rule of the Data Plus Fiber tracker this replaces)."""
    others = Service.objects.filter(is_active=True, name__iexact=name.strip()).prefetch_related(
        "prices"
    )
    if exclude is not None and exclude.pk:
        others = others.exclude(pk=exclude.pk)
    for other in others:
        if price_from_history(other.prices.all(), on) == amount:
            raise ValidationError(
                {
                    field: f"The active service “{other.name}” already costs "
                    f"{format_money(amount)}: one catalog entry per price point. "
                    "Change that service's price, deactivate it, or choose another price."
                }
            )


def _check_one_time_fee(service: Service) -> None:
    if (
        service.category == Service.Category.FEE
        and service.billing_cycle != Service.BillingCycle.ONE_TIME
    ):
        raise ValidationError(
            {"billing_cycle": "Installation and other one-time fees bill once: choose One-time."}
        )


# --- Changing the catalog -------------------------------------------------------------------
@transaction.atomic
def create_service(
    *,
    service: Service,
    price: Decimal,
    effective_from: date,
    created_by=None,
    request: HttpRequest | None = None,
) -> Service:
    """Save a new service with its first price. Raises ValidationError naming the field."""
    _check_one_time_fee(service)
    if service.is_active:
        _check_price_point_free(
            name=service.name, amount=price, on=effective_from, exclude=None, field="price"
        )
    service.save()
    ServicePrice.objects.create(
        service=service, amount=price, effective_from=effective_from, created_by=created_by
    )
    record(
        actor=created_by,
        action="service.create",
        obj=service,
        changes={**created(service, AUDIT_FIELDS), "price": [None, price]},
        note=f"price from {effective_from.isoformat()}",
        request=request,
    )
    return service


@transaction.atomic
def update_service(*, service: Service, by=None, request: HttpRequest | None = None) -> Service:
    """Save edits to a service's details (not its price: see `set_price`)."""
    _check_one_time_fee(service)
    previous = Service.objects.select_for_update().filter(pk=service.pk).first()
    saved_cycle = (
        Service.objects.filter(pk=service.pk).values_list("billing_cycle", flat=True).first()
    )
    if saved_cycle != service.billing_cycle and service.subscriptions.exists():
        # A monthly service turned one-time (or back) would re-interpret every past bill.
        raise ValidationError(
            {
                "billing_cycle": "The billing cycle cannot change once a service has "
                "subscriptions; create a new service instead."
            }
        )
    if service.is_active:
        current = price_in_effect(service=service, on=timezone.localdate())
        if current is not None:
            _check_price_point_free(
                name=service.name,
                amount=current,
                on=timezone.localdate(),
                exclude=service,
                field="name",
            )
    service.save()
    changes = diff(snapshot(previous, AUDIT_FIELDS), service, AUDIT_FIELDS) if previous else {}
    if changes:
        record(actor=by, action="service.update", obj=service, changes=changes, request=request)
    return service


@transaction.atomic
def set_price(
    *,
    service: Service,
    amount: Decimal,
    effective_from: date,
    changed_by=None,
    request: HttpRequest | None = None,
) -> ServicePrice:
    """Schedule a price from a day (today or later). A price not yet in effect on that day is
    replaced; one already in effect never is."""
    today = timezone.localdate()
    if effective_from < today:
        raise ValidationError(
            {
                "effective_from": "A price change takes effect today or later; "
                "prices already charged are never changed."
            }
        )
    # Lock the service row so two staff changing the price at once are serialised.
    Service.objects.select_for_update().filter(pk=service.pk).first()
    existing = ServicePrice.objects.filter(service=service, effective_from=effective_from).first()
    if existing is not None and existing.effective_from <= today:
        raise ValidationError(
            {
                "effective_from": "A price already took effect today and is never edited; "
                "choose a later date."
            }
        )
    if service.is_active:
        _check_price_point_free(
            name=service.name, amount=amount, on=effective_from, exclude=service, field="amount"
        )
    # The price that day would have had without this change (a scheduled one it replaces, or
    # the one in effect before it): the "before" of the audit entry.
    was = price_in_effect(service=service, on=effective_from)
    if existing is not None:
        existing.amount = amount
        existing.created_by = changed_by
        existing.save(update_fields=["amount", "created_by"])
        price = existing
    else:
        price = ServicePrice.objects.create(
            service=service, amount=amount, effective_from=effective_from, created_by=changed_by
        )
    record(
        actor=changed_by,
        action="service.price_change",
        obj=service,
        changes={"price": [was, amount]},
        note=f"from {effective_from.isoformat()}"
        + (" (replaces a scheduled price)" if existing is not None else ""),
        request=request,
    )
    return price


@transaction.atomic
def withdraw_scheduled_price(
    *, price: ServicePrice, by=None, request: HttpRequest | None = None
) -> None:
    """Remove a price that has not taken effect yet."""
    if price.effective_from <= timezone.localdate():
        raise ValidationError("This price is already in effect; prices in effect are kept.")
    record(
        actor=by,
        action="service.price_withdraw",
        obj=price.service,
        changes={"price": [price.amount, None]},
        note=f"was scheduled from {price.effective_from.isoformat()}",
        request=request,
    )
    price.delete()


@transaction.atomic
def deactivate_service(*, service: Service, by=None, request: HttpRequest | None = None) -> Service:
    """No new subscriptions; existing ones run on until cancelled."""
    was = service.is_active
    service.is_active = False
    service.save(update_fields=["is_active", "updated_at"])
    record(
        actor=by,
        action="service.deactivate",
        obj=service,
        changes={"is_active": [was, False]} if was else None,
        request=request,
    )
    return service


@transaction.atomic
def reactivate_service(*, service: Service, by=None, request: HttpRequest | None = None) -> Service:
    today = timezone.localdate()
    current = price_in_effect(service=service, on=today)
    if current is not None:
        _check_price_point_free(
            name=service.name, amount=current, on=today, exclude=service, field="__all__"
        )
    was = service.is_active
    service.is_active = True
    service.save(update_fields=["is_active", "updated_at"])
    record(
        actor=by,
        action="service.reactivate",
        obj=service,
        changes={"is_active": [was, True]} if not was else None,
        request=request,
    )
    return service


def deletion_blocker(service: Service) -> str:
    """Why a service may not be deleted, or '' if it may."""
    count = service.subscriptions.count()
    if count:
        return (
            f"“{service.name}” has {count} subscription{'s' if count != 1 else ''} "
            "(current or past), which bills and invoices refer to, so it can only be "
            "deactivated: deactivating stops new subscriptions and keeps the history."
        )
    return ""


@transaction.atomic
def delete_service(*, service: Service, by=None, request: HttpRequest | None = None) -> None:
    """Admins only (checked by the view). Never a service with subscriptions."""
    blocker = deletion_blocker(service)
    if blocker:
        raise ValidationError(blocker)
    record(
        actor=by,
        action="service.delete",
        obj=service,
        changes=removed(service, AUDIT_FIELDS),
        request=request,
    )
    service.delete()
