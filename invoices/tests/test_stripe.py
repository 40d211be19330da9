"""The Stripe provider with the real `stripe` client; only its HTTP transport is replaced
(a stripe.HTTPClient subclass that records each request and answers like Stripe's API).
Webhooks are signed as Stripe signs them: t=<ts>,v1=HMAC-SHA256(secret, "<ts>.<payload>")."""

import hashlib
import hmac
import json
import time
from decimal import Decimal as D
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from django.urls import reverse

from ..models import Invoice, OnlineCheckout, Payment
from .factories import issued_invoice, line

pytestmark = pytest.mark.django_db
SECRET_KEY = "sk_test_fibercms0000000000"
WEBHOOK_SECRET = "whsec_fibercmstest0000000000"
SESSION_ID = "cs_test_a1b2c3"


class FakeStripeHTTP(stripe.HTTPClient):
    """Records (method, url, headers, form) of every request; answers from `routes`."""

    name = "fake"

    def __init__(self):
        super().__init__()
        self.requests: list[dict] = []
        self.routes: dict[tuple[str, str], tuple[int, dict]] = {}

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        form = parse_qs(post_data or "", keep_blank_values=True)
        query = parse_qs(parts.query, keep_blank_values=True)
        self.requests.append(
            {"method": method, "url": url, "path": parts.path, "headers": headers,
             "form": form, "query": query}
        )  # fmt: skip
        status, body = self.routes.get((method, parts.path), (404, {"error": {"message": "?"}}))
        return json.dumps(body), status, {"request-id": "req_fake"}

    def close(self):
        pass


def session_json(*, paid: bool, amount_cents: int = 3000, expand: bool = False) -> dict:
    body = {
        "id": SESSION_ID,
        "object": "checkout.session",
        "url": f"https://checkout.stripe.com/c/pay/{SESSION_ID}",
        "amount_total": amount_cents,
        "currency": "usd",
        "payment_status": "paid" if paid else "unpaid",
        "status": "complete" if paid else "open",
        "payment_intent": "pi_test_1",
    }
    if expand:
        body["payment_intent"] = {
            "id": "pi_test_1",
            "object": "payment_intent",
            "latest_charge": {
                "id": "ch_test_1",
                "object": "charge",
                "payment_method_details": {"card": {"brand": "visa", "last4": "4242"}},
            },
        }
    return body


@pytest.fixture
def fake_stripe(settings, monkeypatch):
    settings.PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    fake = FakeStripeHTTP()
    monkeypatch.setattr(stripe, "default_http_client", fake)
    fake.routes[("post", "/v1/checkout/sessions")] = (200, session_json(paid=False))
    fake.routes[("get", f"/v1/checkout/sessions/{SESSION_ID}")] = (
        200,
        session_json(paid=True, expand=True),
    )
    return fake


@pytest.fixture(autouse=True)
def no_pdf_rendering(monkeypatch):
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)


@pytest.fixture
def invoice(alice_client) -> Invoice:
    return issued_invoice(client=alice_client, lines=[line(unit_price="100.00")])


@pytest.fixture
def checkout(login, alice_user, invoice, fake_stripe) -> OnlineCheckout:
    response = login(alice_user).post(
        reverse("invoices:portal_pay"),
        {"invoices": [invoice.pk], f"amount_{invoice.pk}": "30.00"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"https://checkout.stripe.com/c/pay/{SESSION_ID}"
    return OnlineCheckout.objects.get()


def signed(payload: str, secret: str = WEBHOOK_SECRET, ts: int | None = None) -> str:
    ts = ts or int(time.time())
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def event_payload(kind="checkout.session.completed", *, paid=True, event_id="evt_test_1"):
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind,
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "data": {"object": session_json(paid=paid)},
        }
    )


def post_webhook(client, payload: str, signature: str):
    return client.post(
        reverse("invoices:stripe_webhook"),
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


# --- Starting a checkout ---------------------------------------------------------------------
def test_the_checkout_session_request_is_exactly_what_stripe_needs(checkout, fake_stripe):
    (sent,) = fake_stripe.requests
    assert (sent["method"], sent["url"]) == ("post", "https://api.stripe.com/v1/checkout/sessions")
    assert sent["headers"]["Authorization"] == f"Bearer {SECRET_KEY}"
    assert sent["headers"]["Idempotency-Key"] == f"checkout-{checkout.public_id}"
    form = {key: values[0] for key, values in sent["form"].items()}
    return_url = reverse("invoices:portal_checkout_return", args=[checkout.public_id])
    assert form == {
        "mode": "payment",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "3000",
        "line_items[0][price_data][product_data][name]": (
            f"Data Plus Fiber: payment of {checkout.allocations[0]['number']}"
        ),
        "success_url": f"http://testserver{return_url}?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": "http://testserver"
        + reverse("invoices:portal_checkout", args=[checkout.public_id]),
        "client_reference_id": str(checkout.public_id),
        "metadata[checkout_id]": str(checkout.pk),
        "metadata[client]": checkout.client.account_number,
        "payment_intent_data[metadata][checkout_id]": str(checkout.pk),
        "customer_email": "alice@test.example",
    }
    assert (checkout.session_id, checkout.amount, checkout.provider) == (
        SESSION_ID,
        D("30.00"),
        "stripe",
    )


def test_stripe_refusing_the_session_charges_nothing_and_says_so(
    login, alice_user, invoice, fake_stripe
):
    fake_stripe.routes[("post", "/v1/checkout/sessions")] = (
        400,
        {"error": {"type": "invalid_request_error", "message": "Invalid currency"}},
    )
    response = login(alice_user).post(
        reverse("invoices:portal_pay"), {"invoices": [invoice.pk], f"amount_{invoice.pk}": "30.00"}
    )
    assert response.status_code == 400
    assert "did not answer; nothing was charged" in response.content.decode()
    assert OnlineCheckout.objects.count() == 0


# --- Coming back, and the webhook ------------------------------------------------------------
def test_the_redirect_back_checks_the_session_and_records_the_payment(
    login, alice_user, checkout, fake_stripe, invoice
):
    http = login(alice_user)
    url = reverse("invoices:portal_checkout_return", args=[checkout.public_id])
    response = http.get(url, {"session_id": SESSION_ID})
    assert response["Location"] == reverse("invoices:portal_checkout", args=[checkout.public_id])
    sent = fake_stripe.requests[-1]
    assert (sent["method"], sent["path"]) == ("get", f"/v1/checkout/sessions/{SESSION_ID}")
    assert sent["query"] == {"expand[0]": ["payment_intent.latest_charge"]}
    payment = Payment.objects.get()
    assert (payment.amount, payment.provider, payment.provider_reference) == (
        D("30.00"),
        "stripe",
        SESSION_ID,
    )
    assert (payment.card_brand, payment.card_last4, payment.method) == (
        "Visa",
        "4242",
        "card_online",
    )
    invoice.refresh_from_db()
    assert invoice.balance == D("70.00")
    assert "$70.00" in http.get(response["Location"]).content.decode()


def test_an_unpaid_session_records_nothing(login, alice_user, checkout, fake_stripe):
    fake_stripe.routes[("get", f"/v1/checkout/sessions/{SESSION_ID}")] = (
        200,
        session_json(paid=False),
    )
    http = login(alice_user)
    http.get(reverse("invoices:portal_checkout_return", args=[checkout.public_id]))
    assert Payment.objects.count() == 0
    page = http.get(reverse("invoices:portal_checkout", args=[checkout.public_id]))
    assert "Payment not finished" in page.content.decode()


def test_a_signed_webhook_records_the_payment(client, checkout, fake_stripe):
    payload = event_payload()
    response = post_webhook(client, payload, signed(payload))
    assert response.status_code == 200
    payment = Payment.objects.get()
    assert (payment.amount, payment.card_last4) == (D("30.00"), "4242")
    checkout.refresh_from_db()
    assert (checkout.status, checkout.payment_id) == ("succeeded", payment.pk)


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "t=1,v1=00",
        "garbage",
        signed(event_payload(), secret="whsec_someoneelse"),
        signed(event_payload(), ts=int(time.time()) - 3600),  # too old: a replay
    ],
)
def test_a_webhook_with_a_bad_signature_is_refused_and_records_nothing(client, checkout, signature):
    response = post_webhook(client, event_payload(), signature)
    assert response.status_code == 400
    assert Payment.objects.count() == 0


def test_a_tampered_payload_fails_the_signature(client, checkout):
    payload = event_payload()
    signature = signed(payload)
    response = post_webhook(client, payload.replace("3000", "1"), signature)
    assert response.status_code == 400
    assert Payment.objects.count() == 0


def test_the_same_event_ten_times_records_one_payment(client, checkout):
    payload = event_payload()
    for _ in range(10):
        assert post_webhook(client, payload, signed(payload)).status_code == 200
    assert Payment.objects.count() == 1
    assert Invoice.objects.get().balance == D("70.00")


def test_redirect_and_webhook_record_one_payment_whichever_comes_first(
    client, login, alice_user, checkout
):
    payload = event_payload()
    assert post_webhook(client, payload, signed(payload)).status_code == 200
    login(alice_user).get(reverse("invoices:portal_checkout_return", args=[checkout.public_id]))
    assert post_webhook(client, payload, signed(payload)).status_code == 200
    assert Payment.objects.count() == 1


def test_an_unpaid_completed_session_and_an_expired_one(client, checkout):
    payload = event_payload(paid=False)
    assert post_webhook(client, payload, signed(payload)).content == b"not paid yet"
    payload = event_payload("checkout.session.expired", paid=False, event_id="evt_2")
    assert post_webhook(client, payload, signed(payload)).status_code == 200
    checkout.refresh_from_db()
    assert checkout.status == "expired"
    assert Payment.objects.count() == 0


def test_the_webhook_is_closed_without_stripe(client, settings):
    settings.PAYMENT_PROVIDER = "sandbox"
    payload = event_payload()
    assert post_webhook(client, payload, signed(payload)).status_code == 404
    assert client.get(reverse("invoices:stripe_webhook")).status_code == 405
