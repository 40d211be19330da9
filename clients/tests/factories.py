import factory
from django.utils import timezone

from clients.models import (
    Client,
    ClientImport,
    Equipment,
    FollowUpTask,
    Interaction,
    ServiceLocation,
)
from staff.models import Role
from staff.tests.factories import UserFactory


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    account_number = factory.Sequence(lambda n: f"T-{n:06d}")
    name = factory.Faker("name")
    email = factory.LazyAttribute(lambda c: f"{c.account_number.lower()}@clients.test")
    phone = "+12175550142"
    billing_street = factory.Sequence(lambda n: f"{n + 1} Oak Street")
    billing_city = "Springfield"
    billing_postal_code = "62704"
    status = Client.Status.ACTIVE
    signup_date = factory.LazyFunction(timezone.localdate)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceLocation

    client = factory.SubFactory(ClientFactory)
    label = "Home"
    street = factory.Sequence(lambda n: f"{n + 1} Elm Street")
    city = "Springfield"
    postal_code = "62704"


class EquipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Equipment

    location = factory.SubFactory(LocationFactory)
    kind = Equipment.Kind.ROUTER
    make_model = "Eero Pro 6E"
    serial_number = factory.Sequence(lambda n: f"SN{n:08d}")
    status = Equipment.Status.INSTALLED


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    client = factory.SubFactory(ClientFactory)
    kind = Interaction.Kind.CALL
    subject = "Checked the connection"


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUpTask

    title = "Call back"
    client = factory.SubFactory(ClientFactory)
    assignee = factory.SubFactory(UserFactory, role=Role.STAFF)
    due_date = factory.LazyFunction(timezone.localdate)


def client_of(user) -> Client:
    """The client account linked to a portal user (created the first time)."""
    existing = Client.objects.filter(user=user).first()
    return existing or ClientFactory(user=user, name=user.get_full_name())


def sample_location(personas: dict) -> ServiceLocation:
    """For the permission matrix: a location of Alice's, so every role may see it."""
    client = client_of(personas["client"])
    return client.locations.first() or LocationFactory(client=client)


def sample_equipment(personas: dict) -> Equipment:
    location = sample_location(personas)
    return location.equipment.first() or EquipmentFactory(location=location)


def sample_task(personas: dict) -> FollowUpTask:
    return FollowUpTask.objects.first() or TaskFactory(
        client=client_of(personas["client"]), assignee=personas["staff"]
    )


def sample_interaction(personas: dict) -> Interaction:
    return Interaction.objects.first() or InteractionFactory(
        client=client_of(personas["client"]), logged_by=personas["staff"]
    )


def sample_import(personas: dict) -> ClientImport:
    return ClientImport.objects.first() or ClientImport.objects.create(
        filename="x.csv", content="name\n", status=ClientImport.Status.INVALID
    )


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clients.Opportunity"

    client = factory.SubFactory(ClientFactory, status=Client.Status.PROSPECT)
    name = factory.Sequence(lambda n: f"Opportunity {n}")
    value = "1000.00"
    stage = "prospecting"
    probability = factory.LazyAttribute(
        lambda o: {"prospecting": 10, "qualification": 25, "proposal": 50, "negotiation": 75}.get(
            o.stage, 100 if o.stage == "won" else 0
        )
    )
    expected_close_date = factory.LazyFunction(timezone.localdate)
    owner = factory.SubFactory(UserFactory, role=Role.STAFF)


def sample_opportunity(personas: dict):
    """For the permission matrix: an opportunity of Alice's account, owned by staff."""
    from clients.models import Opportunity

    return Opportunity.objects.first() or OpportunityFactory(
        client=client_of(personas["client"]), owner=personas["staff"]
    )
