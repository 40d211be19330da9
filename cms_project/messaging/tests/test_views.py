"""The delivery log, re-send, the outbox page, and the deliveries_for fragment."""

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cms_project.messaging.models import Delivery, OutboxMessage

pytestmark = pytest.mark.django_db

LIST = reverse("messaging:delivery_list")


def make_delivery(**fields) -> Delivery:
    defaults = {
        "channel": Delivery.Channel.EMAIL,
        "to": "alice@test.example",
        "subject": "Invoice INV-1",
        "body": "Hello",
        "status": Delivery.Status.SENT,
        "attempts": 1,
    }
    return Delivery.objects.create(**{**defaults, **fields})


def about(obj) -> dict:
    from django.contrib.contenttypes.models import ContentType

    return {"related_type": ContentType.objects.get_for_model(obj), "related_id": obj.pk}


def test_staff_see_the_delivery_log_with_errors_and_resend_buttons(login, staff_user):
    failed = make_delivery(
        status=Delivery.Status.FAILED, last_error="Twilio refused the message: invalid number"
    )
    queued = make_delivery(status=Delivery.Status.QUEUED, to="queued@test.example")
    page = login(staff_user).get(LIST).content.decode()
    assert "alice@test.example" in page
    assert "Twilio refused the message: invalid number" in page
    assert reverse("messaging:delivery_resend", args=[failed.pk]) in page
    assert reverse("messaging:delivery_resend", args=[queued.pk]) not in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"channel": "sms"}, {"+15552010001"}),
        ({"status": "failed"}, {"bob@test.example"}),
        ({"purpose": "reminder"}, {"bob@test.example"}),
        ({"q": "ALICE"}, {"alice@test.example"}),
        ({"q": "copy@"}, {"alice@test.example"}),
        ({"q": "2010001"}, {"+15552010001"}),
        ({}, {"alice@test.example", "bob@test.example", "+15552010001"}),
    ],
)
def test_the_log_filters_by_channel_status_purpose_and_recipient(
    login, staff_user, query, expected
):
    make_delivery(to="alice@test.example", cc="copy@test.example", purpose="invoice")
    make_delivery(to="bob@test.example", status=Delivery.Status.FAILED, purpose="reminder")
    make_delivery(channel=Delivery.Channel.SMS, to="+15552010001", subject="", purpose="invoice")
    response = login(staff_user).get(LIST, query)
    assert {d.to for d in response.context["page"]} == expected


def test_the_log_is_paginated(login, staff_user):
    Delivery.objects.bulk_create(
        Delivery(channel="email", to=f"c{i}@test.example", subject="s", body="b") for i in range(60)
    )
    client = login(staff_user)
    assert len(client.get(LIST).context["page"].object_list) == 50
    assert len(client.get(LIST, {"page": 2}).context["page"].object_list) == 10


def test_the_log_runs_the_same_number_of_queries_for_5_or_40_rows(login, staff_user, bob_user):
    client = login(staff_user)
    client.get(LIST)  # warm the session and content-type caches

    def queries_for(count: int) -> int:
        Delivery.objects.all().delete()
        for i in range(count):
            make_delivery(to=f"c{i}@test.example", requested_by=staff_user, **about(bob_user))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    assert queries_for(5) == queries_for(40)


def test_the_log_shows_what_a_delivery_is_about(login, staff_user, bob_user):
    make_delivery(**about(bob_user))
    assert str(bob_user) in login(staff_user).get(LIST).content.decode()


def test_one_time_codes_are_hidden_and_never_resent(login, staff_user):
    code = make_delivery(
        channel="sms", to="+15552010001", body="Your code is 123456", purpose="2fa"
    )
    client = login(staff_user)
    page = client.get(LIST).content.decode()
    assert "123456" not in page
    assert "(hidden)" in page
    assert (
        "123456"
        not in client.get(reverse("messaging:delivery_detail", args=[code.pk])).content.decode()
    )
    client.post(reverse("messaging:delivery_resend", args=[code.pk]))
    assert Delivery.objects.count() == 1


def test_resend_queues_a_copy_and_returns_to_the_page_it_came_from(
    login, staff_user, django_capture_on_commit_callbacks
):
    failed = make_delivery(status=Delivery.Status.FAILED, last_error="SMTP 550")
    with django_capture_on_commit_callbacks(execute=True):
        response = login(staff_user).post(
            reverse("messaging:delivery_resend", args=[failed.pk]), {"next": "/staff/?x=1"}
        )
    assert response.status_code == 302
    assert response["Location"] == "/staff/?x=1"
    copy = Delivery.objects.exclude(pk=failed.pk).get()
    assert (copy.resent_from, copy.requested_by, copy.status) == (
        failed,
        staff_user,
        Delivery.Status.SENT,
    )


def test_resend_never_redirects_off_site(login, staff_user):
    failed = make_delivery(status=Delivery.Status.FAILED)
    response = login(staff_user).post(
        reverse("messaging:delivery_resend", args=[failed.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == LIST


def test_resend_of_a_queued_delivery_is_refused_with_a_message(login, staff_user):
    queued = make_delivery(status=Delivery.Status.QUEUED)
    response = login(staff_user).post(
        reverse("messaging:delivery_resend", args=[queued.pk]), follow=True
    )
    assert "Only sent or failed messages can be re-sent." in response.content.decode()
    assert Delivery.objects.count() == 1


def test_resend_takes_only_post(login, staff_user):
    sent = make_delivery()
    assert (
        login(staff_user).get(reverse("messaging:delivery_resend", args=[sent.pk])).status_code
        == 405
    )
    assert Delivery.objects.count() == 1


def test_the_detail_page_shows_the_whole_story(login, staff_user):
    delivery = make_delivery(
        status=Delivery.Status.RETRYING,
        attempts=3,
        last_error="SMTP server unavailable: ConnectionRefusedError",
        cc="office@test.example",
        bcc="archive@test.example",
        attachments=[{"filename": "INV-1.pdf", "path": "x", "mimetype": "application/pdf"}],
    )
    page = login(staff_user).get(reverse("messaging:delivery_detail", args=[delivery.pk]))
    text = page.content.decode()
    for expected in [
        "office@test.example",
        "archive@test.example",
        "INV-1.pdf",
        "ConnectionRefusedError",
        "Retrying",
    ]:
        assert expected in text


def test_admins_read_the_sms_outbox(login, admin_user):
    OutboxMessage.objects.create(to="+15552010001", body="Your invoice INV-1 is ready")
    OutboxMessage.objects.create(to="+15552010002", body="Welcome")
    client = login(admin_user)
    page = client.get(reverse("messaging:outbox")).content.decode()
    assert "Your invoice INV-1 is ready" in page
    assert "Twilio is not configured" in page
    searched = client.get(reverse("messaging:outbox"), {"q": "2010002"})
    assert [m.to for m in searched.context["page"]] == ["+15552010002"]


def test_staff_cannot_read_the_outbox(login, staff_user):
    assert login(staff_user).get(reverse("messaging:outbox")).status_code == 403


def test_clients_cannot_read_the_log(login, alice_user):
    assert login(alice_user).get(LIST).status_code == 403


def test_the_workspace_nav_links_to_messages(login, staff_user):
    assert f'href="{LIST}"' in login(staff_user).get(reverse("workspace_home")).content.decode()


def _render_fragment(user, obj) -> str:
    request = RequestFactory().get("/staff/invoices/1/")
    request.user = user
    template = Template("{% load messaging %}{% deliveries_for obj %}")
    return template.render(Context({"obj": obj, "request": request, "csrf_token": "t"}))


def test_deliveries_for_lists_an_objects_deliveries_with_resend_for_staff(
    staff_user, alice_user, bob_user
):
    mine = make_delivery(to="bob@test.example", **about(bob_user))
    make_delivery(to="someone-else@test.example", **about(alice_user))
    html = _render_fragment(staff_user, bob_user)
    assert "bob@test.example" in html
    assert "someone-else@test.example" not in html
    assert reverse("messaging:delivery_resend", args=[mine.pk]) in html
    assert 'value="/staff/invoices/1/"' in html  # re-send comes back to the invoice page


def test_deliveries_for_shows_no_resend_button_to_a_client(alice_user, bob_user):
    make_delivery(to="alice@test.example", **about(alice_user))
    html = _render_fragment(alice_user, alice_user)
    assert "alice@test.example" in html
    assert "resend" not in html


def test_deliveries_for_says_when_nothing_was_sent(staff_user, bob_user):
    assert "Nothing sent yet." in _render_fragment(staff_user, bob_user)


def test_deliveries_for_takes_a_limit_and_a_heading(staff_user, bob_user):
    for i in range(3):
        make_delivery(to=f"b{i}@test.example", **about(bob_user))
    request = RequestFactory().get("/")
    request.user = staff_user
    html = Template(
        '{% load messaging %}{% deliveries_for obj limit=2 heading="Sent to the client" %}'
    ).render(Context({"obj": bob_user, "request": request}))
    assert "Sent to the client" in html
    assert "b2@test.example" in html and "b1@test.example" in html
    assert "b0@test.example" not in html  # the oldest, beyond the limit
    assert "All messages" in html
