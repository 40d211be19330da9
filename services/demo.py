"""Demo data of Data Plus Fiber: the catalog with its price history, and subscriptions for the
demo clients' locations. Idempotent: services are found by name, and only locations with no
subscription at all get some, so running it again adds nothing twice."""

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clients.models import Equipment, ServiceLocation

from .models import Service, ServicePrice, Subscription

Category = Service.Category
Cycle = Service.BillingCycle


@dataclass(frozen=True)
class DemoService:
    name: str
    category: str
    description: str
    prices: tuple[tuple[int, str], ...]  # (months before today, amount): the price history
    cycle: str = Cycle.MONTHLY
    visible: bool = True
    self_service: bool = False


CATALOG = [
    DemoService(
        "Fiber 300",
        Category.INTERNET,
        "300 Mbit/s symmetric fiber internet. Unlimited data, Wi-Fi router included on request.",
        ((36, "44.99"), (10, "49.99")),
    ),
    DemoService(
        "Fiber 1 Gig",
        Category.INTERNET,
        "1 Gbit/s symmetric fiber internet for busy homes: streaming, gaming and working at once.",
        ((36, "79.99"), (10, "89.99")),
    ),
    DemoService(
        "Fiber 2 Gig",
        Category.INTERNET,
        "2 Gbit/s symmetric fiber internet with a Wi-Fi 7 router.",
        ((2, "119.99"),),
    ),
    DemoService(
        "TV Basic",
        Category.TV,
        "More than 80 channels including locals, streamed over your fiber line.",
        ((36, "22.99"), (4, "24.99")),
        self_service=True,
    ),
    DemoService(
        "Home Phone",
        Category.PHONE,
        "Unlimited calls in the US and Canada; keep your number.",
        ((36, "19.99"),),
        self_service=True,
    ),
    DemoService(
        "Wi-Fi router rental",
        Category.RENTAL,
        "A Wi-Fi 6 router, replaced free if it fails.",
        ((36, "9.99"),),
    ),
    DemoService(
        "Mesh unit rental",
        Category.RENTAL,
        "An extra mesh unit to reach every corner of the house.",
        ((36, "5.99"),),
        self_service=True,
    ),
    DemoService(
        "Installation fee",
        Category.FEE,
        "Professional installation of the fiber terminal and router.",
        ((36, "99.00"),),
        cycle=Cycle.ONE_TIME,
        visible=False,
    ),
]

INTERNET_PLANS = [("Fiber 300", 5), ("Fiber 1 Gig", 4), ("Fiber 2 Gig", 1)]


def _months_before(today: date, months: int) -> date:
    """The first day of the month `months` before today's month."""
    index = today.year * 12 + (today.month - 1) - months
    return date(index // 12, index % 12 + 1, 1)


@transaction.atomic
def seed_demo_catalog(*, today: date | None = None) -> dict[str, Service]:
    """The catalog; services that exist already (by name) are left as they are."""
    today = today or timezone.localdate()
    services = {}
    for entry in CATALOG:
        service, created = Service.objects.get_or_create(
            name=entry.name,
            defaults={
                "category": entry.category,
                "description": entry.description,
                "billing_cycle": entry.cycle,
                "visible_to_clients": entry.visible,
                "self_service": entry.self_service,
            },
        )
        if created:
            ServicePrice.objects.bulk_create(
                ServicePrice(
                    service=service,
                    amount=Decimal(amount),
                    effective_from=_months_before(today, months),
                )
                for months, amount in entry.prices
            )
        services[entry.name] = service
    return services


@transaction.atomic
def seed_demo_subscriptions(*, today: date | None = None, batch_size: int = 2000) -> int:
    """Subscriptions for every location that has none yet. Returns how many were created."""
    today = today or timezone.localdate()
    services = {
        s.name: s
        for s in Service.objects.filter(name__in=[e.name for e in CATALOG]).prefetch_related(
            "prices"
        )
    }
    if len(services) < len(CATALOG):
        services.update(seed_demo_catalog(today=today))
    earliest = {
        name: min(p.effective_from for p in ServicePrice.objects.filter(service=service))
        for name, service in services.items()
    }
    routers = dict(
        Equipment.objects.filter(kind=Equipment.Kind.ROUTER, location__isnull=False)
        .exclude(rental_subscriptions__status__in=Subscription.OPEN_STATUSES)
        .values_list("location_id", "pk")
    )
    locations = (
        ServiceLocation.objects.filter(subscriptions__isnull=True)
        .exclude(status=ServiceLocation.Status.INACTIVE)
        .select_related("client")
        .order_by("pk")
    )
    batch: list[Subscription] = []
    created = 0
    for location in locations.iterator(chunk_size=batch_size):
        rng = random.Random(location.pk)
        start = min(location.install_date or location.client.signup_date or today, today)
        names, weights = zip(*INTERNET_PLANS, strict=True)
        plan = [(rng.choices(names, weights=weights)[0], 1)]
        if rng.random() < 0.35:
            plan.append(("TV Basic", 1))
        if rng.random() < 0.2:
            plan.append(("Home Phone", 1))
        if rng.random() < 0.6:
            plan.append(("Wi-Fi router rental", 1))
        if rng.random() < 0.25:
            plan.append(("Mesh unit rental", rng.choice([1, 2])))
        promo = rng.random() < 0.1
        for index, (name, quantity) in enumerate(plan):
            service = services[name]
            # Nobody subscribes before a service existed: start on its first price day at least.
            sub_start = max(start, earliest[name])
            subscription = Subscription(
                service=service,
                location=location,
                quantity=quantity,
                start_date=sub_start,
                status=Subscription.Status.ACTIVE,
            )
            if index == 0 and promo:
                subscription.agreed_price = Decimal("39.99")
                subscription.agreed_price_until = sub_start + timedelta(days=364)
            if name == "Wi-Fi router rental" and location.pk in routers:
                subscription.equipment_id = routers[location.pk]
            batch.append(subscription)
        if start >= today - timedelta(days=60):
            # Recently connected: the installation fee was billed on the first day.
            fee = services["Installation fee"]
            batch.append(
                Subscription(
                    service=fee,
                    location=location,
                    start_date=max(start, earliest["Installation fee"]),
                    end_date=max(start, earliest["Installation fee"]),
                    status=Subscription.Status.CANCELLED
                    if start < today
                    else Subscription.Status.ACTIVE,
                )
            )
        if len(batch) >= batch_size:
            Subscription.objects.bulk_create(batch)
            created += len(batch)
            batch = []
    if batch:
        Subscription.objects.bulk_create(batch)
        created += len(batch)
    return created


def seed_demo_services() -> tuple[int, int]:
    """The catalog and the subscriptions: (services in the catalog, subscriptions created)."""
    services = seed_demo_catalog()
    return len(services), seed_demo_subscriptions()
