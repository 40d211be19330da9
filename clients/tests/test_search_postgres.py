"""On PostgreSQL the client search is served by trigram GIN indexes (migration 0004)."""

import pytest
from django.db import connection

from clients.demo import generate_clients
from clients.search import ClientFilters, search_clients
from clients.tests.factories import ClientFactory, EquipmentFactory, LocationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]

TRIGRAM_INDEXES = {
    "client_name_trgm",
    "client_company_trgm",
    "client_email_trgm",
    "client_street_trgm",
    "client_phone_trgm",
    "location_street_trgm",
    "equipment_serial_trgm",
}


def test_the_trigram_extension_and_indexes_exist():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone()
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%%_trgm'")
        assert {row[0] for row in cursor.fetchall()} >= TRIGRAM_INDEXES


@pytest.fixture
def realistic_tables():
    """Thousands of clients with statistics, so the planner chooses as it would in
    production rather than scanning a near-empty table."""
    generate_clients(5000, seed=1)
    ClientFactory(name="Grace Zyxwvut", email="grace.zyxwvut@example.com")
    EquipmentFactory(location=LocationFactory(street="12 Sangamon Avenue"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE clients_client, clients_servicelocation, clients_equipment")


@pytest.mark.parametrize(
    ("q", "index"),
    [
        ("zyxwvut", "client_name_trgm"),
        ("zyxwvut", "client_email_trgm"),
        ("sangamon ave", "location_street_trgm"),
        ("zteg00ab", "equipment_serial_trgm"),
        ("555-01", "client_phone_trgm"),
    ],
)
def test_the_search_query_uses_each_trigram_index(realistic_tables, q, index):
    query = search_clients(ClientFilters(q=q))[:50]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # 5,000 rows are still few
        plan = query.explain()
    assert index in plan, plan


def test_the_search_finds_accented_and_mixed_case_names():
    ClientFactory(name="Tomás Núñez", account_number="C-000001")
    assert [c.name for c in search_clients(ClientFilters(q="tomás NÚÑEZ"))] == ["Tomás Núñez"]
