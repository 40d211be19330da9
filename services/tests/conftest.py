"""Fixtures of the services tests: a fixed 'today' in the company's time zone."""

from datetime import date

import pytest
import time_machine

# Wednesday 12 November 2025, noon in Chicago: November has 30 days, so from today to the
# end of the month is 19 of 30 days.
TODAY = date(2025, 11, 12)


@pytest.fixture
def today():
    with time_machine.travel("2025-11-12 12:00:00-06:00", tick=False):
        yield TODAY
