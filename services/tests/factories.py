"""Factories for the services tests. The client-side ones are named Subscriber… so they do not
clash with the clients app's own factories."""

from datetime import date
from decimal import Decimal

import factory

from clients.models import Client, Equipment, ServiceLocation
from services.models import Service, ServicePrice, Subscription


class SubscriberFactory(factory.django.DjangoModelFactory):
    """A clients.Client, minimal."""

    class Meta:
        model = Client

    # "S-": the clients app's ClientFactory counts "T-" numbers on its own sequence, and a test
    # using both factories would otherwise collide on the unique account number.
    account_number = factory.Sequence(lambda n: f"S-{n:06d}")
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"client{n}@test.example")
    status = Client.Status.ACTIVE
    signup_date = date(2024, 1, 1)


class SubscriberLocationFactory(factory.django.DjangoModelFactory):
    """A clients.ServiceLocation, minimal."""

    class Meta:
        model = ServiceLocation

    client = factory.SubFactory(SubscriberFactory)
    label = "Home"
    street = factory.Sequence(lambda n: f"{n + 1} Elm Street")
    city = "Springfield"
    postal_code = "62701"


class RentalEquipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Equipment

    kind = Equipment.Kind.ROUTER
    serial_number = factory.Sequence(lambda n: f"SN-{n:08d}")
    location = factory.SubFactory(SubscriberLocationFactory)
    status = Equipment.Status.INSTALLED


class ServiceFactory(factory.django.DjangoModelFactory):
    """A monthly internet service with one price (49.99 since 2020) unless `price=` says
    otherwise (`price=False`: no price history at all)."""

    class Meta:
        model = Service
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Fiber {100 + n}")
    category = Service.Category.INTERNET
    billing_cycle = Service.BillingCycle.MONTHLY
    tax_rate = Decimal("0")
    is_active = True
    visible_to_clients = True

    @factory.post_generation
    def price(obj, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        amount = Decimal("49.99") if extracted is None else Decimal(extracted)
        ServicePrice.objects.create(service=obj, amount=amount, effective_from=date(2020, 1, 1))


class ServicePriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServicePrice

    service = factory.SubFactory(ServiceFactory)
    amount = Decimal("59.99")
    effective_from = date(2025, 1, 1)


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    service = factory.SubFactory(ServiceFactory)
    location = factory.SubFactory(SubscriberLocationFactory)
    quantity = 1
    start_date = date(2025, 1, 1)
    status = Subscription.Status.ACTIVE
