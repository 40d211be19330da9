"""Subscriptions: a service at a client's location, from staff or from the client portal.

Life cycle: pending (requested, waiting for installation) -> active -> suspended <-> active;
any open one can be cancelled. Cancelling an active or suspended subscription sets its end date
(default: the end of the current billing period); it stays open until that day has passed and
`close_ended_subscriptions` (a daily task) marks it cancelled. A pending request that is cancelled
never started, and keeps no end date.

"A service is open at most once per location" is a database constraint; the check made here
first only gives a friendlier message, and the constraint decides when two requests race.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from clients.models import Client, Equipment, ServiceLocation
from cms_project.money import (
    days_in_period,
    days_inclusive,
    end_of_period,
    line_net,
    period_bounds,
    prorate,
    start_of_next_period,
    tax_for,
)
from staff.audit import created, diff, record, snapshot

from .catalog import price_from_history, price_in_effect
from .models import Service, Subscription

Status = Subscription.Status

# What the audit log keeps of a subscription, before and after each change.
AUDIT_FIELDS = [
    "service",
    "location",
    "quantity",
    "start_date",
    "end_date",
    "status",
    "agreed_price",
    "agreed_price_until",
    "equipment",
]


def _audit(subscription: Subscription, action: str, before: dict | None, *, by, request, note=""):
    """One audit entry for a subscription change, inside the caller's transaction."""
    changes = (
        created(subscription, AUDIT_FIELDS)
        if before is None
        else diff(before, subscription, AUDIT_FIELDS)
    )
    record(actor=by, action=action, obj=subscription, changes=changes, note=note, request=request)


class DuplicateSubscriptionError(ValidationError):
    """The location already has this service open (pending, active or suspended)."""


def _duplicate_error(*, service: Service, location: ServiceLocation) -> DuplicateSubscriptionError:
    return DuplicateSubscriptionError(
        f"{location.label} ({location.street}) already has “{service.name}” — "
        "a service can be subscribed once per location. Change the quantity of the existing "
        "subscription instead."
    )


def open_subscription_exists(*, service: Service, location: ServiceLocation) -> bool:
    return Subscription.objects.open().filter(service=service, location=location).exists()


# --- Prices ---------------------------------------------------------------------------------
def agreed_price_in_force(subscription: Subscription, on: date) -> bool:
    return subscription.agreed_price is not None and (
        subscription.agreed_price_until is None or subscription.agreed_price_until >= on
    )


def subscription_unit_price(
    *, subscription: Subscription, on: date, prices=None
) -> tuple[Decimal | None, bool]:
    """(unit price, is it the agreed price) on a day: the agreed price while in force, else the
    service's list price in effect. `prices` is the service's loaded price history, if at hand."""
    if agreed_price_in_force(subscription, on):
        return subscription.agreed_price, True
    if prices is not None:
        return price_from_history(prices, on), False
    return price_in_effect(service=subscription.service, on=on), False


# --- Validation shared by staff and portal ---------------------------------------------------
def _validate_terms(
    *,
    quantity: int,
    start_date: date,
    end_date: date | None,
    agreed_price: Decimal | None,
    agreed_price_until: date | None,
) -> None:
    errors: dict[str, str] = {}
    if quantity is None or quantity < 1:
        errors["quantity"] = "The quantity must be at least 1."
    if end_date is not None and end_date < start_date:
        errors["end_date"] = "The end date cannot be before the start date."
    if agreed_price is not None and agreed_price < 0:
        errors["agreed_price"] = "A price cannot be negative."
    if agreed_price_until is not None:
        if agreed_price is None:
            errors["agreed_price_until"] = "Set the agreed price too, or leave this date empty."
        elif agreed_price_until < start_date:
            errors["agreed_price_until"] = "The agreed price cannot end before the start date."
    if errors:
        raise ValidationError(errors)


def _validate_equipment(*, equipment: Equipment | None, location: ServiceLocation) -> None:
    if equipment is not None and equipment.location_id != location.pk:
        raise ValidationError({"equipment": "This equipment is not installed at this location."})


# --- Creating -------------------------------------------------------------------------------
@transaction.atomic
def subscribe(
    *,
    service: Service,
    location: ServiceLocation,
    start_date: date,
    status: str = Status.PENDING,
    quantity: int = 1,
    end_date: date | None = None,
    agreed_price: Decimal | None = None,
    agreed_price_until: date | None = None,
    equipment: Equipment | None = None,
    created_by=None,
    request: HttpRequest | None = None,
    note: str = "",
) -> Subscription:
    """Subscribe a location to a service. Raises ValidationError (per field) or
    DuplicateSubscriptionError; never leaves a half-made subscription."""
    if status not in (Status.PENDING, Status.ACTIVE):
        raise ValidationError({"status": "A new subscription starts pending or active."})
    if not service.is_active:
        raise ValidationError({"service": "This service is no longer offered."})
    _validate_terms(
        quantity=quantity,
        start_date=start_date,
        end_date=end_date,
        agreed_price=agreed_price,
        agreed_price_until=agreed_price_until,
    )
    _validate_equipment(equipment=equipment, location=location)
    if not service.is_monthly and status == Status.ACTIVE:
        end_date = start_date  # a one-time fee is billed once, on its day
    if open_subscription_exists(service=service, location=location):
        raise _duplicate_error(service=service, location=location)
    try:
        # A savepoint: if a concurrent request won the race, the unique constraint refuses
        # this row and the surrounding transaction stays usable for the message.
        with transaction.atomic():
            subscription = Subscription.objects.create(
                service=service,
                location=location,
                quantity=quantity,
                start_date=start_date,
                end_date=end_date,
                status=status,
                agreed_price=agreed_price,
                agreed_price_until=agreed_price_until,
                equipment=equipment,
                created_by=created_by,
            )
    except IntegrityError:
        if open_subscription_exists(service=service, location=location):
            raise _duplicate_error(service=service, location=location) from None
        if equipment is not None:
            raise ValidationError(
                {"equipment": "This equipment is already rented out on another subscription."}
            ) from None
        raise
    _audit(subscription, "subscription.create", None, by=created_by, request=request, note=note)
    return subscription


# --- Changing -------------------------------------------------------------------------------
def _require_status(subscription: Subscription, *allowed: str, action: str) -> None:
    if subscription.status not in allowed:
        raise ValidationError(
            f"A {subscription.get_status_display().lower()} subscription cannot be {action}."
        )


@transaction.atomic
def change_subscription(
    *,
    subscription: Subscription,
    quantity: int,
    agreed_price: Decimal | None,
    agreed_price_until: date | None,
    equipment: Equipment | None = None,
    by=None,
    request: HttpRequest | None = None,
) -> Subscription:
    """New quantity or agreed price; they apply to bills from now on (issued invoices keep
    what they billed)."""
    before = snapshot(subscription, AUDIT_FIELDS)
    _require_status(subscription, *Subscription.OPEN_STATUSES, action="changed")
    _validate_terms(
        quantity=quantity,
        start_date=subscription.start_date,
        end_date=subscription.end_date,
        agreed_price=agreed_price,
        agreed_price_until=agreed_price_until,
    )
    _validate_equipment(equipment=equipment, location=subscription.location)
    subscription.quantity = quantity
    subscription.agreed_price = agreed_price
    subscription.agreed_price_until = agreed_price_until
    subscription.equipment = equipment
    try:
        with transaction.atomic():
            subscription.save()
    except IntegrityError:
        raise ValidationError(
            {"equipment": "This equipment is already rented out on another subscription."}
        ) from None
    if diff(before, subscription, AUDIT_FIELDS):
        _audit(subscription, "subscription.change", before, by=by, request=request)
    return subscription


@transaction.atomic
def activate_subscription(
    *,
    subscription: Subscription,
    start_date: date,
    by=None,
    request: HttpRequest | None = None,
) -> Subscription:
    """A pending request goes live (e.g. after installation); billing starts on `start_date`."""
    before = snapshot(subscription, AUDIT_FIELDS)
    _require_status(subscription, Status.PENDING, action="activated")
    if not subscription.service.is_monthly:
        subscription.end_date = start_date
    elif subscription.end_date is not None and subscription.end_date < start_date:
        raise ValidationError({"start_date": "The start date cannot be after the end date."})
    if subscription.agreed_price_until and subscription.agreed_price_until < start_date:
        raise ValidationError(
            {"start_date": "The agreed price would already have ended on this start date."}
        )
    subscription.start_date = start_date
    subscription.status = Status.ACTIVE
    subscription.save(update_fields=["start_date", "end_date", "status", "updated_at"])
    _audit(subscription, "subscription.activate", before, by=by, request=request)
    return subscription


@transaction.atomic
def suspend_subscription(
    *,
    subscription: Subscription,
    by=None,
    request: HttpRequest | None = None,
    note: str = "",
) -> Subscription:
    """Stop billing a subscription until resumed. `note` says why (e.g. overdue invoices,
    when the collections code suspends it with by=None)."""
    before = snapshot(subscription, AUDIT_FIELDS)
    _require_status(subscription, Status.ACTIVE, action="suspended")
    subscription.status = Status.SUSPENDED
    subscription.save(update_fields=["status", "updated_at"])
    _audit(subscription, "subscription.suspend", before, by=by, request=request, note=note)
    return subscription


@transaction.atomic
def resume_subscription(
    *,
    subscription: Subscription,
    by=None,
    request: HttpRequest | None = None,
    note: str = "",
) -> Subscription:
    before = snapshot(subscription, AUDIT_FIELDS)
    _require_status(subscription, Status.SUSPENDED, action="resumed")
    subscription.status = Status.ACTIVE
    subscription.save(update_fields=["status", "updated_at"])
    _audit(subscription, "subscription.resume", before, by=by, request=request, note=note)
    return subscription


def default_cancellation_date(today: date | None = None) -> date:
    """Cancelling takes effect at the end of the current billing period unless told otherwise."""
    return end_of_period(today or timezone.localdate())


@transaction.atomic
def cancel_subscription(
    *,
    subscription: Subscription,
    effective_date: date | None = None,
    by=None,
    request: HttpRequest | None = None,
) -> Subscription:
    """Cancel from a day (its last billed day). A pending request is cancelled at once."""
    before = snapshot(subscription, AUDIT_FIELDS)
    _require_status(subscription, *Subscription.OPEN_STATUSES, action="cancelled")
    today = timezone.localdate()
    if subscription.status == Status.PENDING:
        subscription.status = Status.CANCELLED
        subscription.end_date = None  # it never started: nothing to bill
        subscription.save(update_fields=["status", "end_date", "updated_at"])
        _audit(subscription, "subscription.cancel", before, by=by, request=request)
        return subscription
    effective_date = effective_date or default_cancellation_date(today)
    period_start = period_bounds(today.year, today.month)[0]
    if effective_date < period_start:
        raise ValidationError(
            {
                "effective_date": "A cancellation takes effect in the current billing period "
                f"or later (from {period_start:%b} {period_start.day}); earlier periods may "
                "already be invoiced."
            }
        )
    if effective_date < subscription.start_date:
        raise ValidationError(
            {"effective_date": "The cancellation date cannot be before the start date."}
        )
    subscription.end_date = effective_date
    if effective_date < today:
        subscription.status = Status.CANCELLED
    subscription.save(update_fields=["status", "end_date", "updated_at"])
    _audit(subscription, "subscription.cancel", before, by=by, request=request)
    return subscription


@transaction.atomic
def close_ended_subscriptions(*, today: date | None = None) -> int:
    """Mark cancelled every open subscription whose end date has passed (run daily)."""
    today = today or timezone.localdate()
    ended = Subscription.objects.open().filter(end_date__lt=today)
    never_started = ended.filter(status=Status.PENDING).update(
        status=Status.CANCELLED, end_date=None
    )
    return never_started + ended.update(status=Status.CANCELLED)


# --- Client portal --------------------------------------------------------------------------
@dataclass(frozen=True)
class SubscribePreview:
    """What a new subscription costs: this month (prorated from `first_day`) and after."""

    service: Service
    first_day: date
    last_day: date
    days: int
    days_in_month: int
    unit_price: Decimal
    first_net: Decimal
    first_tax: Decimal
    next_month_start: date | None
    next_price: Decimal | None
    next_tax: Decimal | None
    one_time: bool

    @property
    def prorated(self) -> bool:
        return self.days != self.days_in_month

    @property
    def first_total(self) -> Decimal:
        return self.first_net + self.first_tax

    @property
    def next_total(self) -> Decimal | None:
        return None if self.next_price is None else self.next_price + self.next_tax


def subscribe_preview(*, service: Service, start: date | None = None) -> SubscribePreview | None:
    """The cost of subscribing from `start` (default today), computed by the same money
    functions as the bill. None if the service has no price yet."""
    start = start or timezone.localdate()
    price = price_in_effect(service=service, on=start)
    if price is None:
        return None
    period_end = end_of_period(start)
    dim = days_in_period(start.year, start.month)
    if service.is_monthly:
        days = days_inclusive(start, period_end)
        net = prorate(
            amount=line_net(quantity=1, unit_price=price), days_used=days, days_in_period=dim
        )
        next_start = start_of_next_period(start)
        next_price = price_in_effect(service=service, on=next_start)
        next_tax = None if next_price is None else tax_for(net=next_price, rate=service.tax_rate)
    else:
        days, net, next_start, next_price, next_tax = (
            dim,
            line_net(quantity=1, unit_price=price),
            None,
            None,
            None,
        )
    return SubscribePreview(
        service=service,
        first_day=start,
        last_day=period_end if service.is_monthly else start,
        days=days,
        days_in_month=dim,
        unit_price=price,
        first_net=net,
        first_tax=tax_for(net=net, rate=service.tax_rate),
        next_month_start=next_start,
        next_price=next_price,
        next_tax=next_tax,
        one_time=not service.is_monthly,
    )


def locations_of(client: Client) -> QuerySet[ServiceLocation]:
    return ServiceLocation.objects.filter(client=client).exclude(
        status=ServiceLocation.Status.INACTIVE
    )


@transaction.atomic
def subscribe_from_portal(
    *,
    client: Client,
    service: Service,
    location: ServiceLocation,
    by=None,
    request: HttpRequest | None = None,
) -> Subscription:
    """A client subscribes one of their own locations, starting today: active at once for
    self-service services, else pending until our team activates it."""
    if location.client_id != client.pk:
        # Views only offer the client's own locations; this guards every other caller.
        raise ValidationError({"location": "Choose one of your own locations."})
    if not (service.is_active and service.visible_to_clients):
        raise ValidationError({"location": "This service is not offered in the portal."})
    return subscribe(
        service=service,
        location=location,
        start_date=timezone.localdate(),
        status=Status.ACTIVE if service.self_service else Status.PENDING,
        created_by=by,
        request=request,
        note="from the client portal",
    )


def subscriptions_of_client(client: Client) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(location__client=client)
        .select_related("service", "location")
        .order_by("location__label", "location__pk", "service__name", "-start_date", "-pk")
    )
