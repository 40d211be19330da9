"""Paying online in the portal with the sandbox provider: choosing invoices, the test-mode card
page, declines, validation, idempotency, and that nobody pays (or sees) another's invoices."""

import logging
import re
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from cms_project.settings.base import payment_settings_from_env
from staff.models import AuditEntry

from ..allocation import Pick, record_payment
from ..models import Invoice, OnlineCheckout, Payment, PaymentMethod
from ..providers.sandbox import CardError, card_brand, check_card, luhn_ok
from .factories import issued_invoice, line

pytestmark = pytest.mark.django_db
CARD_OK = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 0002"


@pytest.fixture(autouse=True)
def no_pdf_rendering(monkeypatch):
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)


def invoice_for(client, amount: str, *, days_overdue: int = 0) -> Invoice:
    invoice = issued_invoice(client=client, lines=[line(unit_price=amount)])
    Invoice.objects.filter(pk=invoice.pk).update(
        due_date=invoice.issue_date - timedelta(days=days_overdue)
    )
    return Invoice.objects.get(pk=invoice.pk)


def choose(http, picks: dict) -> "object":
    data = {"invoices": [str(pk) for pk in picks]}
    data.update({f"amount_{pk}": amount for pk, amount in picks.items()})
    return http.post(reverse("invoices:portal_pay"), data)


def start(http, picks: dict) -> OnlineCheckout:
    response = choose(http, picks)
    assert response.status_code == 302, response.content.decode()[:2000]
    checkout = OnlineCheckout.objects.latest("pk")
    assert response["Location"] == reverse("invoices:portal_sandbox_pay", args=[checkout.public_id])
    return checkout


def pay_card(http, checkout, number=CARD_OK, expiry="12/29", cvc="123"):
    return http.post(
        reverse("invoices:portal_sandbox_pay", args=[checkout.public_id]),
        {"card_number": number, "expiry": expiry, "cvc": cvc},
    )


# --- The flow --------------------------------------------------------------------------------
def test_alice_pays_part_of_an_invoice_with_the_test_card_and_sees_her_new_balance(
    login, alice_client, alice_user
):
    invoice = invoice_for(alice_client, "100.00")
    http = login(alice_user)
    page = http.get(reverse("invoices:portal_pay"), {"invoice": invoice.pk})
    assert page.status_code == 200
    assert 'value="100.00"' in page.content.decode()  # defaults to the balance

    checkout = start(http, {invoice.pk: "30.00"})
    assert (checkout.amount, checkout.status, checkout.provider) == (
        D("30.00"),
        "pending",
        "sandbox",
    )
    assert checkout.session_id.startswith("sbx_")
    card_page = http.get(reverse("invoices:portal_sandbox_pay", args=[checkout.public_id]))
    assert "TEST MODE" in card_page.content.decode()
    assert "no real money" in card_page.content.decode()

    response = pay_card(http, checkout)
    assert response["Location"] == reverse("invoices:portal_checkout", args=[checkout.public_id])
    payment = Payment.objects.get()
    assert (payment.amount, payment.method, payment.provider) == (
        D("30.00"),
        PaymentMethod.CARD_ONLINE,
        "sandbox",
    )
    assert (payment.card_brand, payment.card_last4) == ("Visa", "4242")
    assert payment.provider_reference == checkout.session_id
    assert [(a.invoice_id, a.amount) for a in payment.allocations.all()] == [
        (invoice.pk, D("30.00"))
    ]
    invoice.refresh_from_db()
    assert (invoice.balance, invoice.status) == (D("70.00"), Invoice.Status.PARTIALLY_PAID)
    checkout.refresh_from_db()
    assert (checkout.status, checkout.payment_id) == ("succeeded", payment.pk)

    done = http.get(response["Location"]).content.decode()
    assert payment.number in done
    assert 'id="new-balance">$70.00<' in done


def test_several_invoices_each_with_its_own_amount(login, alice_client, alice_user):
    older = invoice_for(alice_client, "49.99", days_overdue=20)
    newer = invoice_for(alice_client, "60.00")
    http = login(alice_user)
    checkout = start(http, {newer.pk: "10.01", older.pk: "49.99"})
    assert checkout.amount == D("60.00")
    pay_card(http, checkout)
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.balance, older.status) == (D("0.00"), "paid")
    assert newer.balance == D("49.99")


def test_a_declined_card_shows_a_message_and_records_nothing(login, alice_client, alice_user):
    invoice = invoice_for(alice_client, "80.00")
    http = login(alice_user)
    checkout = start(http, {invoice.pk: "80.00"})
    response = pay_card(http, checkout, number=CARD_DECLINED)
    assert response.status_code == 400
    assert "Your card was declined. Nothing was charged" in response.content.decode()
    assert Payment.objects.count() == 0
    checkout.refresh_from_db()
    assert (checkout.status, checkout.payment_id) == ("failed", None)
    invoice.refresh_from_db()
    assert invoice.balance == D("80.00")
    # Another card on the same page works.
    pay_card(http, checkout)
    assert Payment.objects.get().amount == D("80.00")


@pytest.mark.parametrize(
    "number, expiry, cvc, field, message",
    [
        ("4242 4242 4242 4241", "12/29", "123", "card_number", "not valid"),
        ("4242", "12/29", "123", "card_number", "12 to 19 digits"),
        ("5555 5555 5555 4444", "12/29", "123", "card_number", "only the test cards"),
        (CARD_OK, "11/26", "123", "expiry", "expired"),
        (CARD_OK, "13/29", "123", "expiry", "01 to 12"),
        (CARD_OK, "1229", "123", "expiry", "MM/YY"),
        (CARD_OK, "12/29", "12", "cvc", "3 digits"),
        (CARD_OK, "12/29", "abc", "cvc", "3 digits"),
    ],
)
def test_card_details_are_checked_with_the_message_next_to_the_field(
    login, alice_client, alice_user, number, expiry, cvc, field, message
):
    invoice = invoice_for(alice_client, "80.00")
    http = login(alice_user)
    checkout = start(http, {invoice.pk: "80.00"})
    response = pay_card(http, checkout, number=number, expiry=expiry, cvc=cvc)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert f'id="id_{field}-error"' in response.content.decode()
    assert Payment.objects.count() == 0


def test_a_double_submit_records_one_payment(login, alice_client, alice_user):
    invoice = invoice_for(alice_client, "80.00")
    http = login(alice_user)
    checkout = start(http, {invoice.pk: "25.00"})
    first, second = pay_card(http, checkout), pay_card(http, checkout)
    assert first["Location"] == second["Location"]
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.balance == D("55.00")


def test_the_card_number_and_cvc_are_never_stored_or_logged(
    login, alice_client, alice_user, caplog
):
    caplog.set_level(logging.DEBUG)
    invoice = invoice_for(alice_client, "80.00")
    http = login(alice_user)
    checkout = start(http, {invoice.pk: "80.00"})
    pay_card(http, checkout, number=CARD_DECLINED, cvc="987")
    pay_card(http, checkout, number=CARD_OK, cvc="987")
    stored = " ".join(
        [
            str(list(Payment.objects.values())),
            str(list(OnlineCheckout.objects.values())),
            str(list(AuditEntry.objects.values())),
        ]
    )
    for secret in ("4242424242424242", "4000000000000002", "4242 4242"):
        assert secret not in stored
        assert secret not in caplog.text
    # The CVC as a value of its own (a random UUID or a timestamp may hold the digits).
    assert not re.search(r"\b987\b", stored + caplog.text)
    assert Payment.objects.get().card_last4 == "4242"


def test_the_card_form_needs_the_csrf_token(client, alice_client, alice_user):
    invoice = invoice_for(alice_client, "80.00")
    checkout = OnlineCheckout.objects.create(
        client=alice_client, provider="sandbox", session_id="sbx_x", amount=D("80.00"),
        currency="USD", allocations=[{"invoice_id": invoice.pk, "number": invoice.number,
                                      "amount": "80.00"}],
    )  # fmt: skip
    from django.test import Client

    http = Client(enforce_csrf_checks=True)
    http.force_login(alice_user)
    response = pay_card(http, checkout)
    assert response.status_code == 403
    assert Payment.objects.count() == 0


def test_money_taken_for_an_invoice_paid_meanwhile_becomes_credit(login, alice_client, alice_user):
    invoice = invoice_for(alice_client, "80.00")
    http = login(alice_user)
    checkout = start(http, {invoice.pk: "80.00"})
    record_payment(
        client=alice_client,
        amount="50.00",
        method=PaymentMethod.CHECK,
        received_on=invoice.issue_date,
    )
    pay_card(http, checkout)
    payment = Payment.objects.get(provider="sandbox")
    assert (payment.amount, payment.amount_allocated, payment.unallocated) == (
        D("80.00"),
        D("30.00"),
        D("50.00"),
    )


def test_an_old_pending_checkout_expires(login, alice_client, alice_user, settings):
    invoice = invoice_for(alice_client, "80.00")
    http = login(alice_user)
    checkout = start(http, {invoice.pk: "80.00"})
    OnlineCheckout.objects.filter(pk=checkout.pk).update(
        created_at=checkout.created_at - timedelta(minutes=settings.ONLINE_CHECKOUT_MINUTES + 1)
    )
    response = pay_card(http, checkout)
    assert response["Location"] == reverse("invoices:portal_checkout", args=[checkout.public_id])
    assert Payment.objects.count() == 0
    assert "Payment expired" in http.get(response["Location"]).content.decode()


# --- What may be chosen ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "amount, message",
    [
        ("0", "more than zero"),
        ("-5.00", "more than zero"),
        ("10.005", "at most two decimals"),
        ("80.01", "more than the balance"),
        ("abc", "as a number"),
        ("", "as a number"),
        ("NaN", "as a number"),
    ],
)
def test_amounts_are_checked_next_to_their_invoice(
    login, alice_client, alice_user, amount, message
):
    invoice = invoice_for(alice_client, "80.00")
    response = choose(login(alice_user), {invoice.pk: amount})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [f"amount_{invoice.pk}"]
    assert message in errors[f"amount_{invoice.pk}"][0]
    assert OnlineCheckout.objects.count() == 0


def test_a_forged_id_of_bobs_invoice_is_refused_without_revealing_it(
    login, alice_client, alice_user, bob_client
):
    invoice_for(alice_client, "80.00")
    bobs = invoice_for(bob_client, "55.55")
    response = choose(login(alice_user), {bobs.pk: "10.00"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose among your open invoices." in page
    assert bobs.number not in page and "55.55" not in page
    assert OnlineCheckout.objects.count() == 0


def test_only_open_invoices_of_her_own_are_offered(login, alice_client, alice_user, bob_client):
    mine = invoice_for(alice_client, "80.00")
    paid = invoice_for(alice_client, "20.00")
    record_payment(client=alice_client, amount="20.00", method="cash",
                   received_on=paid.issue_date, picks=[Pick(paid.pk, D("20.00"))])  # fmt: skip
    bobs = invoice_for(bob_client, "55.55")
    paid.refresh_from_db()
    page = login(alice_user).get(reverse("invoices:portal_pay")).content.decode()
    assert mine.number in page
    assert bobs.number not in page
    assert f'value="{paid.pk}"' not in page
    response = choose(login(alice_user), {paid.pk: "1.00"})
    assert "Choose among your open invoices." in response.content.decode()


def test_choosing_nothing_says_so(login, alice_client, alice_user):
    invoice_for(alice_client, "80.00")
    response = login(alice_user).post(reverse("invoices:portal_pay"), {})
    assert response.status_code == 400
    assert "Choose at least one invoice to pay." in response.content.decode()


# --- Who may see what ------------------------------------------------------------------------
def test_alice_cannot_see_or_pay_bobs_checkout(login, alice_user, bob_client, bob_user):
    bobs = invoice_for(bob_client, "55.55")
    checkout = start(login(bob_user), {bobs.pk: "55.55"})
    http = login(alice_user)
    for name in ("portal_checkout", "portal_sandbox_pay", "portal_checkout_return"):
        url = reverse(f"invoices:{name}", args=[checkout.public_id])
        assert http.get(url).status_code == 404
    assert pay_card(http, checkout).status_code == 404
    assert Payment.objects.count() == 0


def test_staff_cannot_use_the_portal_pay_flow(login, staff_user, alice_client):
    invoice = invoice_for(alice_client, "80.00")
    http = login(staff_user)
    assert http.get(reverse("invoices:portal_pay")).status_code == 403
    assert choose(http, {invoice.pk: "10.00"}).status_code == 403


def test_pay_buttons_on_the_portal_invoice_list_and_page(login, alice_client, alice_user):
    invoice = invoice_for(alice_client, "80.00")
    http = login(alice_user)
    pay_url = f"{reverse('invoices:portal_pay')}?invoice={invoice.pk}"
    assert pay_url in http.get(reverse("invoices_portal:list")).content.decode()
    assert (
        pay_url in http.get(reverse("invoices_portal:detail", args=[invoice.pk])).content.decode()
    )


# --- Card checks and settings ----------------------------------------------------------------
def test_luhn_and_brands():
    assert luhn_ok("4242424242424242") and not luhn_ok("4242424242424241")
    assert card_brand("4242424242424242") == "Visa"
    assert card_brand("5555555555554444") == "Mastercard"
    assert card_brand("378282246310005") == "American Express"
    with pytest.raises(CardError) as exc:
        check_card(number="", expiry="12/29", cvc="123", today=__import__("datetime").date.today())
    assert exc.value.field == "card_number"


def test_settings_choose_stripe_only_when_fully_configured():
    assert payment_settings_from_env({})["PAYMENT_PROVIDER"] == "sandbox"
    full = {"STRIPE_SECRET_KEY": "sk_test_abc123", "STRIPE_WEBHOOK_SECRET": "whsec_abc123"}
    assert payment_settings_from_env(full)["PAYMENT_PROVIDER"] == "stripe"
    for bad, words in [
        ({"STRIPE_SECRET_KEY": "sk_test_abc123"}, "STRIPE_WEBHOOK_SECRET is not"),
        ({"STRIPE_WEBHOOK_SECRET": "whsec_abc123"}, "STRIPE_SECRET_KEY is not"),
        ({**full, "STRIPE_SECRET_KEY": "pk_test_abc"}, "must be a Stripe secret key"),
        ({**full, "STRIPE_WEBHOOK_SECRET": "abc"}, "signing secret"),
    ]:
        with pytest.raises(ImproperlyConfigured, match=words):
            payment_settings_from_env(bad)


def test_the_pay_page_costs_the_same_queries_for_2_or_12_invoices(
    login, alice_client, alice_user, django_assert_max_num_queries
):
    http = login(alice_user)
    for _ in range(2):
        invoice_for(alice_client, "10.00")
    http.get(reverse("invoices:portal_pay"))  # warm: session, company settings
    with django_assert_max_num_queries(12) as small:
        http.get(reverse("invoices:portal_pay"))
    for _ in range(10):
        invoice_for(alice_client, "10.00")
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = http.get(reverse("invoices:portal_pay"))
    assert page.content.decode().count('name="invoices"') == 12
