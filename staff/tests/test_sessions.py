"""Sessions: rotation at log-in, log-out on the server, password change ends the other
sessions, idle timeout for staff, absolute lifetime, and no-store on sensitive pages."""

from datetime import timedelta

import pytest
import time_machine
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from staff.models import AuditEntry, UserSession
from staff.permissions import PUBLIC, allowed_roles_of, login_required_any_role, public
from staff.security import no_store
from staff.tests.factories import TEST_PASSWORD
from staff.tests.helpers import logged_in_user_id, password_step

pytestmark = pytest.mark.django_db


def _logged_in_client(user, when=None) -> Client:
    client = Client()
    password_step(client, user)
    assert logged_in_user_id(client) == user.pk
    return client


def test_the_session_key_changes_at_login(client, alice_user):
    client.get(reverse("login"))
    client.session.save()
    anonymous_key = client.session.session_key
    password_step(client, alice_user)
    assert client.session.session_key != anonymous_key
    assert not UserSession.objects.filter(session_key=anonymous_key).exists()


def test_logout_deletes_the_session_on_the_server(alice_user):
    client = _logged_in_client(alice_user)
    key = client.session.session_key
    client.post(reverse("logout"))
    assert not UserSession.objects.filter(session_key=key).exists()
    assert AuditEntry.objects.filter(action="auth.logout", actor=alice_user).exists()


def test_changing_the_password_logs_out_the_other_sessions_only(staff_user):
    here = _logged_in_client(staff_user)
    laptop = _logged_in_client(staff_user)
    phone = _logged_in_client(staff_user)
    assert UserSession.objects.filter(user_id=staff_user.pk).count() == 3

    response = here.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "another-long-pass-31",
            "new_password2": "another-long-pass-31",
        },
    )
    assert response.status_code == 302
    assert UserSession.objects.filter(user_id=staff_user.pk).count() == 1
    assert here.get(reverse("workspace_home")).status_code == 200
    for other in (laptop, phone):
        assert other.get(reverse("workspace_home")).status_code == 302
    entry = AuditEntry.objects.get(action="account.password_change")
    assert entry.note == "2 other session(s) ended"


def test_a_user_can_log_out_their_other_sessions(alice_user):
    here = _logged_in_client(alice_user)
    other = _logged_in_client(alice_user)
    page = here.get(reverse("accounts:security")).content.decode()
    assert "data-other-sessions>1<" in page
    here.post(reverse("accounts:security_end_other_sessions"))
    assert other.get(reverse("portal_home")).status_code == 302
    assert here.get(reverse("portal_home")).status_code == 200


def test_staff_are_logged_out_after_30_idle_minutes(staff_user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = _logged_in_client(staff_user)
        key = client.session.session_key
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = client.get(reverse("workspace_home"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert "next=/staff/" in response["Location"]
        assert not UserSession.objects.filter(session_key=key).exists()
        page = client.get(response["Location"]).content.decode()
        assert "logged out after 30 minutes without activity" in page
    assert AuditEntry.objects.filter(action="auth.idle_timeout", actor=staff_user).exists()
    assert not AuditEntry.objects.filter(action="auth.logout").exists()


def test_activity_keeps_a_staff_session_alive(staff_user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = _logged_in_client(staff_user)
    for minutes in (20, 40, 60, 80):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get(reverse("workspace_home")).status_code == 200


def test_the_idle_timeout_is_configurable(staff_user, settings):
    settings.STAFF_IDLE_TIMEOUT_MINUTES = 5
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = _logged_in_client(staff_user)
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert client.get(reverse("workspace_home")).status_code == 302


def test_clients_have_no_idle_timeout_by_default(alice_user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = _logged_in_client(alice_user)
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        assert client.get(reverse("portal_home")).status_code == 200


def test_a_session_ends_12_hours_after_login_however_active(staff_user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = _logged_in_client(staff_user)
    for minutes in range(20, 12 * 60, 20):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get(reverse("workspace_home")).status_code == 200, minutes
    with time_machine.travel(start + timedelta(hours=12, minutes=5), tick=False):
        response = client.get(reverse("workspace_home"))
        assert response.status_code == 302
        assert "sessions last at most 12 hours" in client.get(response["Location"]).content.decode()


def test_an_expired_session_posting_a_form_is_sent_to_login(staff_user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = _logged_in_client(staff_user)
    with time_machine.travel(start + timedelta(minutes=45), tick=False):
        response = client.post(reverse("accounts:profile"), {"first_name": "Late"})
        assert response.status_code == 302
    staff_user.refresh_from_db()
    assert staff_user.first_name == "Sam"


# --- no-store -----------------------------------------------------------------------------
def test_no_store_marks_the_response_and_keeps_the_permission_marker(rf: RequestFactory):
    @login_required_any_role
    @no_store
    def inner(request):
        return HttpResponse("secret")

    @no_store
    @public
    def outer(request):
        return HttpResponse("page")

    assert allowed_roles_of(outer) == PUBLIC
    assert allowed_roles_of(inner) is not None
    response = outer(rf.get("/"))
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize(
    "name",
    ["accounts:profile", "accounts:security", "password_change", "staff:audit_list"],
)
def test_account_pages_are_never_cached(login, admin_user, name):
    response = login(admin_user).get(reverse(name))
    assert "no-store" in response["Cache-Control"]


def test_the_login_page_is_never_cached(client):
    assert "no-store" in client.get(reverse("login"))["Cache-Control"]
