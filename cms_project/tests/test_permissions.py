"""The permission matrix: every URL pattern x every role gets the status its decorator promises.

A view without a permission decorator fails `test_every_view_declares_who_may_use_it`; a URL with
arguments needs an entry in SAMPLE_ARGS so the matrix can reach it.
"""

from collections.abc import Callable

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from staff.permissions import PUBLIC, allowed_roles_of

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "client", "staff", "admin"]

# url name -> function(personas) -> kwargs. Objects are chosen so that the allowed roles may
# see them (a client's own object for client pages, a staff account for team pages).
SAMPLE_ARGS: dict[str, Callable[[dict], dict]] = {
    "staff:team_edit": lambda p: {"pk": p["staff"].pk},
    "staff:team_deactivate": lambda p: {"pk": p["staff"].pk},
    "staff:team_reactivate": lambda p: {"pk": p["staff"].pk},
    "staff:team_password_link": lambda p: {"pk": p["staff"].pk},
    "password_reset_confirm": lambda p: {"uidb64": "MQ", "token": "set-password"},
    "messaging:delivery_detail": lambda p: {"pk": _sample_delivery().pk},
    "messaging:delivery_resend": lambda p: {"pk": _sample_delivery().pk},
    **{
        f"invoices:{name}": lambda p: {"pk": _sample_invoice().pk}
        for name in (
            "detail",
            "edit",
            "delete",
            "issue",
            "pdf",
            "send_email",
            "send_sms",
            "credit_note_create",
            "void",
        )
    },  # fmt: skip
    **{
        f"invoices:{name}": lambda p: {"pk": _sample_credit_note().pk}
        for name in ("credit_note_detail", "credit_note_pdf", "credit_note_send")
    },
    **{
        f"invoices:{name}": lambda p: {"pk": _sample_billing_run().pk}
        for name in ("billing_run", "billing_run_status", "billing_run_issue_drafts")
    },
    # Portal pages: objects owned by the client persona (Alice).
    **{
        f"invoices_portal:{name}": lambda p: {"pk": _sample_invoice(p["client"]).pk}
        for name in ("detail", "pdf", "email")
    },
    **{
        f"invoices_portal:{name}": lambda p: {"pk": _sample_credit_note(p["client"]).pk}
        for name in ("credit_note_detail", "credit_note_pdf")
    },
}


def _sample_invoice(user=None):
    """An issued invoice (of `user`'s client account when given)."""
    from clients.models import Client
    from invoices.tests.factories import SubscriberFactory, issued_invoice

    client = Client.objects.filter(user=user).first() if user else None
    return issued_invoice(client=client or SubscriberFactory(user=user))


def _sample_credit_note(user=None):
    from invoices.credit_notes import create_credit_note

    return create_credit_note(invoice=_sample_invoice(user), reason="Sample")


def _sample_billing_run():
    from invoices.models import BillingRun

    return BillingRun.objects.create(period_year=2026, period_month=11)


def _sample_delivery():
    from cms_project.messaging.models import Delivery

    return Delivery.objects.create(
        channel=Delivery.Channel.EMAIL,
        to="alice@test.example",
        subject="s",
        body="b",
        status=Delivery.Status.SENT,
    )


def _walk(patterns, prefix="", namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # Django's admin site has its own staff/superuser checks.
            ns = entry.namespace or namespace
            if entry.namespace and namespace:
                ns = f"{namespace}:{entry.namespace}"
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name, prefix + str(entry.pattern), entry.callback


def all_views():
    return sorted(_walk(get_resolver().url_patterns), key=lambda v: v[1])


def test_every_view_declares_who_may_use_it():
    missing = [route for _, route, callback in all_views() if allowed_roles_of(callback) is None]
    assert missing == [], f"views without a permission decorator: {missing}"


def test_every_view_is_named_so_the_matrix_can_reach_it():
    unnamed = [route for name, route, _ in all_views() if not name]
    assert unnamed == []


def test_django_admin_lives_off_the_default_path():
    assert settings.ADMIN_URL != "admin/"
    assert reverse("admin:index") == "/" + settings.ADMIN_URL


def _expected(role: str, allowed) -> set[int]:
    if allowed == PUBLIC:
        return {200, 302, 405}
    if role == "anonymous":
        return {302}
    if role in allowed:
        return {200, 302, 405}
    return {403}


@pytest.fixture
def personas(admin_user, staff_user, alice_user):
    return {"admin": admin_user, "staff": staff_user, "client": alice_user}


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_each_role_as_its_decorator_says(client, personas, role):
    if role != "anonymous":
        client.force_login(personas[role])
    failures = []
    for name, route, callback in all_views():
        allowed = allowed_roles_of(callback)
        if "<" in route:
            assert name in SAMPLE_ARGS, f"add sample arguments for {name} ({route}) to SAMPLE_ARGS"
            url = reverse(name, kwargs=SAMPLE_ARGS[name](personas))
        else:
            url = reverse(name)
        status = client.get(url).status_code
        if status not in _expected(role, allowed):
            failures.append(
                f"{role} GET {url} -> {status}, expected {sorted(_expected(role, allowed))}"
            )
        if role == "anonymous" and allowed != PUBLIC:
            response = client.get(url)
            assert response["Location"].startswith(reverse("login")), url
        # Deny before anything else: a forbidden POST must not reach the view either.
        if allowed != PUBLIC and role != "anonymous" and role not in allowed:
            post_status = client.post(url).status_code
            if post_status != 403:
                failures.append(f"{role} POST {url} -> {post_status}, expected 403")
    assert failures == []
