"""EstimatedCountPaginator: the planner's estimate for a huge unfiltered list on PostgreSQL,
an exact count otherwise, always in one query."""

import pytest
from django.db import connection

from cms_project import pagination
from cms_project.pagination import EstimatedCountPaginator
from invoices.models import Invoice
from invoices.tests.factories import draft_invoice


@pytest.mark.django_db
def test_small_or_filtered_lists_are_counted_exactly(django_assert_num_queries):
    for _ in range(3):
        draft_invoice()
    with django_assert_num_queries(1):
        paginator = EstimatedCountPaginator(Invoice.objects.order_by("pk"), 2)
        assert paginator.count == 3
    assert not paginator.count_is_estimated
    filtered = EstimatedCountPaginator(Invoice.objects.filter(pk__gt=0).order_by("pk"), 2)
    assert filtered.count == 3 and not filtered.count_is_estimated


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_huge_unfiltered_list_on_postgresql_shows_the_planners_estimate(
    monkeypatch, django_assert_num_queries
):
    for _ in range(4):
        draft_invoice()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE invoices_invoice")
    monkeypatch.setattr(pagination, "ESTIMATE_ABOVE", 2)  # "huge" = more than 2 rows here
    with django_assert_num_queries(1):
        paginator = EstimatedCountPaginator(Invoice.objects.order_by("pk"), 2)
        assert paginator.count == 4  # ANALYZE counted every row of a table this small
    assert paginator.count_is_estimated
    assert EstimatedCountPaginator(Invoice.objects.filter(pk__gt=0), 2).count == 4
