"""The balance cell of the client list and page (clients_tags.balance)."""

from decimal import Decimal as D

import pytest

from clients.templatetags.clients_tags import balance


@pytest.mark.parametrize(
    ("value", "html"),
    [
        (D("49.90"), '<span class="fw-semibold">$49.90</span> '
                     '<span class="small text-body-secondary">owed</span>'),
        (D("-20.00"), '-$20.00 <span class="small text-success">(in credit)</span>'),
        (D("0.00"), "$0.00"),
        (0.1 + 0.2, '<span class="fw-semibold">$0.30</span> '
                    '<span class="small text-body-secondary">owed</span>'),  # SQLite float
        (None, "—"),
    ],
)  # fmt: skip
def test_a_balance_reads_as_owed_in_credit_or_settled(value, html):
    assert str(balance(value)) == html
