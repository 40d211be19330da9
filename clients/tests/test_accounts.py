import pytest

from clients.accounts import create_client, next_account_number
from clients.models import Client

pytestmark = pytest.mark.django_db


def test_account_numbers_count_up_from_one():
    assert next_account_number() == "C-000001"
    assert create_client(name="Ann Lee").account_number == "C-000002"


def test_numbers_already_taken_by_an_import_are_skipped():
    create_client(name="Imported", account_number="C-000001")
    assert create_client(name="New").account_number == "C-000002"
    assert Client.objects.count() == 2
