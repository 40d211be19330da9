import pytest

from staff.tests.helpers import CommitClient


@pytest.fixture
def client():
    """Sign-up emails are sent after commit: this client runs those callbacks."""
    return CommitClient()
