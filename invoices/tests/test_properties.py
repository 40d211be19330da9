"""Property tests: for any set of lines, net + tax = total, and the invoice page, the list,
the CSV export and the PDF all show the same figures."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cms_project.money import ZERO, format_money, line_net, tax_summary

from .factories import SubscriberFactory, issued_invoice, line
from .test_pdf import pdf_text

pytestmark = pytest.mark.django_db

quantities = st.decimals(min_value="0.01", max_value="250", places=2)
prices = st.decimals(min_value="0", max_value="9999.99", places=2)
rates = st.sampled_from(["0", "5", "7.125", "8.25", "10", "20"])
lines_strategy = st.lists(st.tuples(quantities, prices, rates), min_size=1, max_size=12)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=lines_strategy)
def test_for_any_lines_net_plus_tax_is_total_and_every_view_agrees(rows, login, staff_user):
    invoice = issued_invoice(
        client=SubscriberFactory(),
        lines=[line(f"Item {n}", str(q), str(p), r) for n, (q, p, r) in enumerate(rows)],
    )
    nets = [line_net(quantity=q, unit_price=p) for q, p, _ in rows]
    assert invoice.net == sum(nets, ZERO)
    assert invoice.tax == sum((g.tax for g in tax_summary(invoice.lines.all())), ZERO)
    assert invoice.net + invoice.tax == invoice.total
    assert invoice.balance == invoice.total
    assert invoice.total.as_tuple().exponent == -2

    figures = {name: format_money(getattr(invoice, name)) for name in ("net", "tax", "total")}
    staff = login(staff_user)
    page = staff.get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    for name, shown in figures.items():
        assert re.search(rf'data-figure="{name}">{re.escape(shown)}<', page), name
    listing = staff.get(reverse("invoices:list"), {"client": invoice.number}).content.decode()
    assert f'data-figure="total">{figures["total"]}<' in listing
    export = staff.get(reverse("invoices:export"), {"client": invoice.number})
    rows_out = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [Decimal(rows_out[0][k]) for k in ("net", "tax", "total")] == [
        invoice.net,
        invoice.tax,
        invoice.total,
    ]
    from ..pdf import invoice_pdf_bytes

    text = pdf_text(invoice_pdf_bytes(invoice))
    totals_block = text[text.index("Net ") :]
    assert f"Net {figures['net']}" in totals_block
    assert f"Tax {figures['tax']}" in totals_block
    assert f"Total {figures['total']}" in totals_block
