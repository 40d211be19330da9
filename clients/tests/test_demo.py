"""Demo data: the Data Plus Fiber clients (idempotent) and bulk generation for benchmarks."""

import pytest
from django.core.management import call_command

from clients.accounts import next_account_number
from clients.demo import generate_clients, seed_demo_clients
from clients.models import Client, Equipment, FollowUpTask, Interaction, ServiceLocation
from staff.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=None)


def test_seed_demo_adds_a_few_dozen_clients_with_everything(demo):
    assert 30 <= Client.objects.count() <= 60
    assert ServiceLocation.objects.count() >= Client.objects.count()
    assert Equipment.objects.filter(location__isnull=False).exists()
    assert Interaction.objects.exists() and FollowUpTask.objects.exists()


def test_seed_demo_is_idempotent(demo):
    before = (Client.objects.count(), Equipment.objects.count(), Interaction.objects.count())
    assert seed_demo_clients() == 0
    call_command("seed_demo", stdout=None)
    assert (
        Client.objects.count(),
        Equipment.objects.count(),
        Interaction.objects.count(),
    ) == before


@pytest.mark.parametrize(
    ("email", "name"),
    [
        ("client@dataplusfiber.example", "Alice Martin"),
        ("client2@dataplusfiber.example", "Bob Nguyen"),
    ],
)
def test_demo_portal_users_each_have_their_own_client_with_a_location_and_equipment(
    demo, email, name
):
    client = User.objects.get(email=email).client_account
    assert client.name == name
    location = client.locations.get()
    assert location.equipment.exists()


def test_alice_and_bob_do_not_share_anything(demo):
    alice = User.objects.get(email="client@dataplusfiber.example").client_account
    bob = User.objects.get(email="client2@dataplusfiber.example").client_account
    assert alice != bob
    assert not set(alice.locations.values_list("equipment", flat=True)) & set(
        bob.locations.values_list("equipment", flat=True)
    )


def test_seed_demo_generates_n_more_clients_in_bulk(demo):
    before = Client.objects.count()
    call_command("seed_demo", "--clients", "120", stdout=None)
    assert Client.objects.count() == before + 120
    generated = Client.objects.order_by("-pk")[:120]
    assert all(c.locations.exists() for c in generated[:10])
    # The account counter moved past them: the next sign-up gets a fresh number.
    assert not Client.objects.filter(account_number=next_account_number()).exists()


def test_generated_clients_are_valid_records():
    totals = generate_clients(30, batch_size=7, seed=3)
    assert totals["clients"] == 30 and totals["equipment"] == 2 * totals["locations"]
    for client in Client.objects.all():
        client.full_clean()
    for device in Equipment.objects.all()[:20]:
        device.full_clean()
