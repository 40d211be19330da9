"""Staff management: admins only; every rule that keeps the company from locking itself out."""

import pytest
from django.core import mail
from django.urls import reverse

from staff.models import Role, User, UserSession
from staff.tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_MEMBER = {
    "first_name": "Nora",
    "last_name": "Field",
    "email": "nora@test.example",
    "role": Role.STAFF,
    "phone": "",
    "password1": "splice-the-fiber-42",
    "password2": "splice-the-fiber-42",
}


def test_admin_creates_a_staff_member_who_can_then_log_in(login, admin_user, client):
    response = login(admin_user).post(reverse("staff:team_create"), NEW_MEMBER)
    assert response.status_code == 302
    member = User.objects.get(email="nora@test.example")
    assert member.role == Role.STAFF
    client.logout()
    assert client.login(username="nora@test.example", password="splice-the-fiber-42")


def test_member_created_without_password_is_emailed_a_link(
    login, admin_user, django_capture_on_commit_callbacks
):
    data = {**NEW_MEMBER, "password1": "", "password2": ""}
    with django_capture_on_commit_callbacks(execute=True):  # the queued email is sent
        login(admin_user).post(reverse("staff:team_create"), data)
    member = User.objects.get(email="nora@test.example")
    assert not member.has_usable_password()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nora@test.example"]
    assert "/accounts/password/reset/" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"first_name": ""}, "first_name", "This field is required."),
        ({"last_name": "x" * 151}, "last_name", "at most 150 characters"),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"email": ""}, "email", "This field is required."),
        ({"email": "STAFF@test.example"}, "email", "already exists"),
        ({"role": "client"}, "role", "Select a valid choice"),
        ({"role": "superuser"}, "role", "Select a valid choice"),
        ({"phone": "555"}, "phone", "Enter a valid phone number"),
        ({"password1": "short", "password2": "short"}, "password1", "too short"),
        ({"password1": "password123", "password2": "password123"}, "password1", "too common"),
        ({"password2": "something-else-99"}, "password2", "do not match"),
    ],
)
def test_create_form_rejects_bad_input_next_to_the_field(
    login, admin_user, staff_user, changes, field, message
):
    response = login(admin_user).post(reverse("staff:team_create"), {**NEW_MEMBER, **changes})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not User.objects.filter(first_name="Nora").exists()


def test_staff_cannot_reach_team_management(login, staff_user, admin_user):
    client = login(staff_user)
    assert client.get(reverse("staff:team_list")).status_code == 403
    assert client.post(reverse("staff:team_create"), NEW_MEMBER).status_code == 403
    assert client.post(reverse("staff:team_deactivate", args=[admin_user.pk])).status_code == 403
    assert not User.objects.filter(email="nora@test.example").exists()
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_team_list_searches_and_filters(login, admin_user, staff_user):
    UserFactory(
        email="zed@test.example",
        first_name="Zed",
        last_name="Quill",
        role=Role.STAFF,
        is_active=False,
    )
    client = login(admin_user)
    names = lambda r: [m.email for m in r.context["page"]]  # noqa: E731
    assert names(client.get(reverse("staff:team_list"), {"q": "quill"})) == ["zed@test.example"]
    assert names(client.get(reverse("staff:team_list"), {"status": "inactive"})) == [
        "zed@test.example"
    ]
    assert names(client.get(reverse("staff:team_list"), {"role": "admin"})) == [
        "admin@test.example"
    ]


def test_team_list_never_shows_client_accounts(login, admin_user, alice_user):
    response = login(admin_user).get(reverse("staff:team_list"))
    assert alice_user.email not in response.content.decode()
    assert (
        login(admin_user).get(reverse("staff:team_edit", args=[alice_user.pk])).status_code == 404
    )


def test_admin_edits_role(login, admin_user, staff_user):
    data = {**NEW_MEMBER, "email": staff_user.email, "role": Role.ADMIN}
    response = login(admin_user).post(reverse("staff:team_edit", args=[staff_user.pk]), data)
    assert response.status_code == 302
    staff_user.refresh_from_db()
    assert staff_user.role == Role.ADMIN and staff_user.first_name == "Nora"


def test_admin_cannot_remove_own_admin_role(login, admin_user):
    UserFactory(role=Role.ADMIN)
    data = {**NEW_MEMBER, "email": admin_user.email, "role": Role.STAFF}
    response = login(admin_user).post(reverse("staff:team_edit", args=[admin_user.pk]), data)
    assert response.status_code == 200
    assert "own admin role" in " ".join(response.context["form"].errors["role"])
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN


def test_last_active_admin_is_never_deactivated_or_demoted(admin_user, staff_user):
    # The views cannot reach this (an admin cannot act on themselves), but scripts and the
    # shell call the same functions, and the company must never lose its last admin.
    from staff.team import TeamRuleError, deactivate_user, save_team_member

    with pytest.raises(TeamRuleError, match="last active admin"):
        deactivate_user(user=admin_user, by=staff_user)
    admin_user.role = Role.STAFF
    with pytest.raises(TeamRuleError, match="last active admin"):
        save_team_member(user=admin_user, changed_by=staff_user)
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.role == Role.ADMIN


def test_deactivating_ends_the_members_sessions(admin_user, staff_user, client):
    from django.test import Client

    staff_browser = Client()
    assert staff_browser.login(username=staff_user.email, password=TEST_PASSWORD)
    assert staff_browser.get(reverse("workspace_home")).status_code == 200
    assert UserSession.objects.filter(user_id=staff_user.pk).exists()

    client.force_login(admin_user)
    response = client.post(reverse("staff:team_deactivate", args=[staff_user.pk]))
    assert response.status_code == 302

    assert not UserSession.objects.filter(user_id=staff_user.pk).exists()
    assert staff_browser.get(reverse("workspace_home")).status_code == 302  # back to log-in
    staff_user.refresh_from_db()
    assert not staff_user.is_active


def test_admin_cannot_deactivate_themselves(login, admin_user):
    client = login(admin_user)
    response = client.post(reverse("staff:team_deactivate", args=[admin_user.pk]), follow=True)
    assert "cannot deactivate your own account" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_reactivate_and_password_link(
    login, admin_user, staff_user, django_capture_on_commit_callbacks
):
    staff_user.is_active = False
    staff_user.save()
    client = login(admin_user)
    refused = client.post(reverse("staff:team_password_link", args=[staff_user.pk]), follow=True)
    assert "Reactivate the account" in refused.content.decode()
    client.post(reverse("staff:team_reactivate", args=[staff_user.pk]))
    staff_user.refresh_from_db()
    assert staff_user.is_active
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("staff:team_password_link", args=[staff_user.pk]))
    assert [m.to for m in mail.outbox] == [[staff_user.email]]


def test_deactivating_is_post_only(login, admin_user, staff_user):
    assert (
        login(admin_user).get(reverse("staff:team_deactivate", args=[staff_user.pk])).status_code
        == 405
    )
