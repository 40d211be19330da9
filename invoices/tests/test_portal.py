"""The client portal: a client's own invoices and credit notes, never anyone else's."""

import pytest
from django.urls import reverse

from cms_project.messaging.models import Delivery

from ..credit_notes import void_invoice
from ..sending import PORTAL_SENDS_PER_DAY
from .factories import draft_invoice, issued_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(login, alice_user, alice_client):
    return login(alice_user)


def test_alice_sees_her_issued_invoices_and_credit_notes_but_no_drafts(
    alice, alice_client, bob_client
):
    mine = issued_invoice(client=alice_client)
    voided = issued_invoice(client=alice_client)
    note = void_invoice(invoice=voided, reason="Duplicate")
    draft = draft_invoice(client=alice_client)
    bobs = issued_invoice(client=bob_client)
    response = alice.get(reverse("invoices_portal:list"))
    html = response.content.decode()
    assert {i.pk for i in response.context["page"]} == {mine.pk, voided.pk}
    assert mine.number in html and note.number in html
    assert bobs.number not in html and f"/{draft.pk}/" not in html
    assert "no-store" in response["Cache-Control"]


def test_alice_downloads_her_pdf(alice, alice_client):
    invoice = issued_invoice(client=alice_client)
    page = alice.get(reverse("invoices_portal:detail", args=[invoice.pk]))
    assert invoice.number in page.content.decode()
    response = alice.get(reverse("invoices_portal:pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_alice_cannot_see_or_fetch_bobs_invoice_pdf_or_credit_note(alice, bob_client):
    bobs = issued_invoice(client=bob_client)
    note = void_invoice(invoice=issued_invoice(client=bob_client), reason="x")
    for url in [
        reverse("invoices_portal:detail", args=[bobs.pk]),
        reverse("invoices_portal:pdf", args=[bobs.pk]),
        reverse("invoices_portal:credit_note_detail", args=[note.pk]),
        reverse("invoices_portal:credit_note_pdf", args=[note.pk]),
    ]:
        assert alice.get(url).status_code == 404, url
    response = alice.post(reverse("invoices_portal:email", args=[bobs.pk]), {})
    assert response.status_code == 404
    assert not Delivery.objects.exists()


def test_a_draft_of_alice_is_a_404_for_her(alice, alice_client):
    draft = draft_invoice(client=alice_client)
    assert alice.get(reverse("invoices_portal:detail", args=[draft.pk])).status_code == 404
    assert alice.get(reverse("invoices_portal:pdf", args=[draft.pk])).status_code == 404


def test_staff_pages_are_forbidden_to_clients(alice, alice_client):
    invoice = issued_invoice(client=alice_client)
    assert alice.get(reverse("invoices:detail", args=[invoice.pk])).status_code == 403
    assert alice.get(reverse("invoices:pdf", args=[invoice.pk])).status_code == 403


def test_email_me_this_invoice_sends_to_her_address_and_one_other(
    alice, alice_client, mailoutbox, django_capture_on_commit_callbacks
):
    invoice = issued_invoice(client=alice_client)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(
            reverse("invoices_portal:email", args=[invoice.pk]),
            {"other_address": "accountant@test.example"},
        )
    assert response.status_code == 302
    message = mailoutbox[0]
    assert message.to == ["alice@test.example", "accountant@test.example"]
    assert message.attachments[0][0] == f"{invoice.number}.pdf"
    assert Delivery.objects.get().related == invoice


def test_email_me_refuses_a_bad_address_next_to_the_field(alice, alice_client):
    invoice = issued_invoice(client=alice_client)
    response = alice.post(
        reverse("invoices_portal:email", args=[invoice.pk]), {"other_address": "nope"}
    )
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert not Delivery.objects.exists()


def test_email_me_has_a_daily_allowance(alice, alice_client):
    invoice = issued_invoice(client=alice_client)
    url = reverse("invoices_portal:email", args=[invoice.pk])
    for _ in range(PORTAL_SENDS_PER_DAY):
        alice.post(url, {})
    response = alice.post(url, {}, follow=True)
    assert "several times today" in response.content.decode()
    assert Delivery.objects.count() == PORTAL_SENDS_PER_DAY


def test_the_client_page_fragment_lists_a_clients_invoices(rf, staff_user, alice_client):
    from django.template.loader import render_to_string

    invoice = issued_invoice(client=alice_client)
    request = rf.get("/")
    request.user = staff_user
    html = render_to_string(
        "invoices/_client_invoices.html", {"client": alice_client}, request=request
    )
    assert invoice.number in html and "$80.00" in html and "Open balance" in html
