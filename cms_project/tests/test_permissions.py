"""The permission matrix: every URL pattern x every role gets the status its decorator promises.

A view without a permission decorator fails `test_every_view_declares_who_may_use_it`; a URL with
arguments needs an entry in SAMPLE_ARGS so the matrix can reach it.
"""

from collections.abc import Callable

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clients.tests.factories import (
    client_of,
    sample_equipment,
    sample_import,
    sample_interaction,
    sample_location,
    sample_opportunity,
    sample_task,
)
from services.tests import factories as services_factories
from staff.permissions import PUBLIC, allowed_roles_of

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "client", "staff", "admin"]


def _alice_subscription(p):
    """Alice's client record, a location of hers and a subscription there (created once)."""
    from clients.models import Client
    from services.models import Subscription

    client = Client.objects.filter(user=p["client"]).first() or (
        services_factories.SubscriberFactory(user=p["client"], name="Alice Martin")
    )
    sub = Subscription.objects.filter(location__client=client).first()
    return sub or services_factories.SubscriptionFactory(
        location=services_factories.SubscriberLocationFactory(client=client)
    )


def _email_change_token(p) -> str:
    from staff.account_changes import email_change_token

    return email_change_token(user=p["client"], new_email="alice.new@test.example")


# url name -> function(personas) -> kwargs. Objects are chosen so that the allowed roles may
# see them (a client's own object for client pages, a staff account for team pages).
SAMPLE_ARGS: dict[str, Callable[[dict], dict]] = {
    "staff:team_edit": lambda p: {"pk": p["staff"].pk},
    "staff:team_deactivate": lambda p: {"pk": p["staff"].pk},
    "staff:team_reactivate": lambda p: {"pk": p["staff"].pk},
    "staff:team_password_link": lambda p: {"pk": p["staff"].pk},
    "password_reset_confirm": lambda p: {"uidb64": "MQ", "token": "set-password"},
    # A valid link (Alice to a new address): the page then shows its confirmation form.
    "accounts:email_confirm": lambda p: {"token": _email_change_token(p)},
    # clients: Alice's own account, location and equipment serve every role.
    **{
        f"clients:{name}": lambda p: {"pk": client_of(p["client"]).pk}
        for name in (
            "client_detail",
            "client_edit",
            "client_delete",
            "location_create",
            "interaction_list",
            "interaction_create",
            "client_task_create",
            "portal_invite",
        )
    },
    **{
        f"clients:{name}": lambda p: {"pk": sample_location(p).pk}
        for name in ("location_edit", "equipment_create", "equipment_install_from_stock")
    },
    **{
        f"clients:{name}": lambda p: {"pk": sample_equipment(p).pk}
        for name in ("equipment_detail", "equipment_edit", "equipment_move")
    },
    "clients:task_edit": lambda p: {"pk": sample_task(p).pk},
    "clients:interaction_edit": lambda p: {"pk": sample_interaction(p).pk},
    "clients:interaction_delete": lambda p: {"pk": sample_interaction(p).pk},
    "clients:task_complete": lambda p: {"pk": sample_task(p).pk},
    "clients:import_preview": lambda p: {"pk": sample_import(p).pk},
    "clients:import_commit": lambda p: {"pk": sample_import(p).pk},
    "clients:import_status": lambda p: {"pk": sample_import(p).pk},
    "clients_portal:location": lambda p: {"pk": sample_location(p).pk},
    "clients_portal:equipment": lambda p: {"pk": sample_equipment(p).pk},
    "clients_portal:invitation": lambda p: {"token": _sample_invitation_token()},
    "messaging:delivery_detail": lambda p: {"pk": _sample_delivery().pk},
    "messaging:delivery_resend": lambda p: {"pk": _sample_delivery().pk},
    # services (staff)
    "services:service_detail": lambda p: {"pk": _alice_subscription(p).service_id},
    "services:service_edit": lambda p: {"pk": _alice_subscription(p).service_id},
    "services:service_price": lambda p: {"pk": _alice_subscription(p).service_id},
    "services:price_withdraw": lambda p: {
        "pk": _alice_subscription(p).service_id,
        "price_pk": _alice_subscription(p).service.prices.first().pk,
    },
    "services:service_deactivate": lambda p: {"pk": _alice_subscription(p).service_id},
    "services:service_reactivate": lambda p: {"pk": _alice_subscription(p).service_id},
    "services:service_delete": lambda p: {"pk": _alice_subscription(p).service_id},
    "services:service_announce": lambda p: {"pk": _alice_subscription(p).service_id},
    "services:subscription_create": lambda p: {"location_pk": _alice_subscription(p).location_id},
    "services:subscription_detail": lambda p: {"pk": _alice_subscription(p).pk},
    "services:subscription_change": lambda p: {"pk": _alice_subscription(p).pk},
    "services:subscription_activate": lambda p: {"pk": _alice_subscription(p).pk},
    "services:subscription_suspend": lambda p: {"pk": _alice_subscription(p).pk},
    "services:subscription_resume": lambda p: {"pk": _alice_subscription(p).pk},
    "services:subscription_cancel": lambda p: {"pk": _alice_subscription(p).pk},
    "services:client_bill": lambda p: {"client_pk": _alice_subscription(p).location.client_id},
    # services (client portal): objects Alice owns
    "services_portal:service": lambda p: {"pk": _alice_subscription(p).service_id},
    "services_portal:subscribe": lambda p: {
        "pk": services_factories.ServiceFactory().pk,
        "location_pk": _alice_subscription(p).location_id,
    },
    "services_portal:cancel": lambda p: {"pk": _alice_subscription(p).pk},
    "staff:user_2fa_reset": lambda p: {"pk": p["staff"].pk},
    **{
        f"clients:{name}": lambda p: {"pk": sample_opportunity(p).pk}
        for name in ("opportunity_detail", "opportunity_edit", "opportunity_move")
    },
    "clients:client_opportunity_create": lambda p: {"pk": client_of(p["client"]).pk},
    "reports:report": lambda p: {"name": "accounts"},
    "reports:report_csv": lambda p: {"name": "revenue"},
    "signup:verify": lambda p: {"token": "not-a-real-token"},
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
    # Collections (staff): reminders and pauses for an invoice or a client.
    **{
        f"invoices:{name}": lambda p: {"pk": _sample_invoice(p["client"]).pk}
        for name in ("remind", "reminders_pause", "reminders_resume")
    },
    **{
        f"invoices:{name}": lambda p: {"pk": client_of(p["client"]).pk}
        for name in ("client_remind", "client_reminders_pause", "client_reminders_resume")
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
    # Payments: staff pages reach a payment of Alice's; the portal receipt is Alice's own.
    **{
        f"invoices:{name}": lambda p: {"pk": _sample_payment(p["client"]).pk}
        for name in (
            "payment_detail",
            "payment_receipt",
            "payment_send_receipt",
            "payment_refund",
            "payment_reverse",
        )
    },
    "invoices:portal_payment_receipt": lambda p: {"pk": _sample_payment(p["client"]).pk},
    # Paying online: a checkout of Alice's; statements: Alice's account (staff pages).
    **{
        f"invoices:{name}": lambda p: {"public_id": _sample_checkout(p["client"]).public_id}
        for name in ("portal_checkout", "portal_checkout_return", "portal_sandbox_pay")
    },
    **{
        f"invoices:{name}": lambda p: {"pk": _sample_invoice(p["client"]).client_id}
        for name in ("client_statement", "client_statement_pdf", "client_statement_csv")
    },
}


def _sample_invitation_token() -> str:
    """A good invitation link, for a client with no login yet (the page shows its form)."""
    from clients.invitations import make_token
    from clients.tests.factories import ClientFactory

    return make_token(client=ClientFactory(name="Invited Person"), email="invited@test.example")


def _sample_invoice(user=None):
    """An issued invoice (of `user`'s client account when given)."""
    from clients.models import Client
    from invoices.tests.factories import SubscriberFactory, issued_invoice

    client = Client.objects.filter(user=user).first() if user else None
    return issued_invoice(client=client or SubscriberFactory(user=user))


def _sample_checkout(user):
    """A pending sandbox checkout of `user`'s client account, for one of their invoices."""
    from decimal import Decimal

    from invoices.models import OnlineCheckout

    invoice = _sample_invoice(user)
    return OnlineCheckout.objects.create(
        client=invoice.client,
        provider="sandbox",
        session_id=f"sbx_sample_{invoice.pk}",
        amount=Decimal("1.00"),
        currency="USD",
        allocations=[{"invoice_id": invoice.pk, "number": invoice.number, "amount": "1.00"}],
    )


def _sample_credit_note(user=None):
    from invoices.credit_notes import create_credit_note

    return create_credit_note(invoice=_sample_invoice(user), reason="Sample")


def _sample_payment(user):
    """A payment of `user`'s client account for part of an invoice, leaving credit (once)."""
    from datetime import date

    from invoices.allocation import record_payment
    from invoices.models import Payment

    existing = Payment.objects.filter(client__user=user).first()
    if existing:
        return existing
    invoice = _sample_invoice(user)
    return record_payment(
        client=invoice.client, amount=invoice.total + 5, method="cash", received_on=date.today()
    )


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
        return {200, 301, 302, 405}
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
