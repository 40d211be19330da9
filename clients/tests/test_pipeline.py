"""The sales pipeline: probabilities by stage, the forecast to the cent, moving on the board,
winning a prospect, the forms' answers to bad input, and constant query counts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from clients import pipeline
from clients.models import Client, Opportunity
from staff.models import AuditEntry

from .factories import ClientFactory, OpportunityFactory

pytestmark = pytest.mark.django_db
Stage = Opportunity.Stage


def _new(client, staff_user, *, stage=Stage.PROSPECTING, value="1000.00", probability=None):
    opportunity = Opportunity(
        client=client,
        name="Office fiber",
        value=Decimal(value),
        stage=stage,
        expected_close_date=timezone.localdate(),
        owner=staff_user,
    )
    return pipeline.save_opportunity(
        opportunity=opportunity, by=staff_user, probability=probability
    )


def test_the_probability_defaults_from_the_stage_and_can_be_overridden(staff_user):
    client = ClientFactory(status=Client.Status.PROSPECT)
    assert _new(client, staff_user, stage=Stage.QUALIFICATION).probability == 25
    assert _new(client, staff_user, stage=Stage.PROPOSAL, probability=40).probability == 40
    # Closed stages fix the probability whatever was asked.
    assert _new(client, staff_user, stage=Stage.LOST, probability=40).probability == 0


def test_moving_takes_the_new_stage_probability_unless_it_was_overridden(staff_user):
    client = ClientFactory(status=Client.Status.ACTIVE)
    plain = _new(client, staff_user)
    custom = _new(client, staff_user, probability=35)
    assert (
        pipeline.move_opportunity(
            opportunity=plain, stage=Stage.NEGOTIATION, by=staff_user
        ).opportunity.probability
        == 75
    )
    moved = pipeline.move_opportunity(opportunity=custom, stage=Stage.PROPOSAL, by=staff_user)
    assert moved.opportunity.probability == 35
    lost = pipeline.move_opportunity(opportunity=custom, stage=Stage.LOST, by=staff_user)
    assert (lost.opportunity.probability, lost.opportunity.closed_on) == (0, timezone.localdate())
    reopened = pipeline.move_opportunity(opportunity=custom, stage=Stage.PROPOSAL, by=staff_user)
    assert (reopened.opportunity.probability, reopened.opportunity.closed_on) == (50, None)


def test_the_forecast_is_computed_to_the_cent(staff_user):
    client = ClientFactory()
    _new(client, staff_user, stage=Stage.PROSPECTING, value="1000.00")  # weighted 100.00
    _new(client, staff_user, stage=Stage.PROPOSAL, value="2500.50")  # 1250.25
    _new(client, staff_user, stage=Stage.NEGOTIATION, value="333.33", probability=60)  # 199.998
    _new(client, staff_user, stage=Stage.QUALIFICATION, value="999.99")  # 249.9975
    _new(client, staff_user, stage=Stage.WON, value="5000.00")
    _new(client, staff_user, stage=Stage.LOST, value="700.00")
    _new(client, staff_user, stage=Stage.LOST, value="300.00")

    figures = pipeline.forecast()
    assert figures.total_pipeline == Decimal("4833.82")
    # 100 + 1250.25 + 199.998 + 249.9975 = 1800.2455, rounded once: 1800.25
    assert figures.weighted == Decimal("1800.25")
    assert figures.best_case == Decimal("2833.83")  # Proposal + Negotiation
    assert figures.open_count == 4
    assert (figures.won_count, figures.lost_count) == (1, 2)
    assert figures.won_value == Decimal("5000.00")
    assert figures.win_rate == Decimal("33.3")


def test_the_win_rate_is_empty_while_nothing_is_closed(staff_user):
    _new(ClientFactory(), staff_user)
    assert pipeline.forecast().win_rate is None
    assert pipeline.forecast(Opportunity.objects.none()).weighted == Decimal("0.00")


def test_winning_turns_a_prospect_into_an_active_client_and_offers_the_subscription(
    login, staff_user
):
    prospect = ClientFactory(status=Client.Status.PROSPECT, name="Nadia Rahman")
    opportunity = _new(prospect, staff_user, stage=Stage.NEGOTIATION)
    response = login(staff_user).post(
        reverse("clients:opportunity_move", args=[opportunity.pk]), {"stage": "won"}, follow=True
    )
    prospect.refresh_from_db()
    assert prospect.status == Client.Status.ACTIVE
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.probability) == (Stage.WON, 100)
    page = response.content.decode()
    assert "Nadia Rahman is now an active client" in page
    subscribe = f"{reverse('services:location_search')}?q={prospect.account_number}"
    assert subscribe in page
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"opportunity.move", "client.activate"} <= actions


def test_winning_for_a_client_already_active_changes_nothing_else(staff_user):
    client = ClientFactory(status=Client.Status.SUSPENDED)
    result = pipeline.move_opportunity(
        opportunity=_new(client, staff_user), stage=Stage.WON, by=staff_user
    )
    client.refresh_from_db()
    assert (result.client_activated, client.status) == (False, Client.Status.SUSPENDED)


def test_the_board_moves_with_a_plain_post_and_refuses_get(login, staff_user):
    opportunity = _new(ClientFactory(), staff_user)
    client = login(staff_user)
    url = reverse("clients:opportunity_move", args=[opportunity.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"stage": "proposal"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('clients:pipeline')}#stage-proposal"
    bad = client.post(url, {"stage": "<script>"})
    assert bad.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.stage == Stage.PROPOSAL


def test_the_form_answers_bad_input_next_to_the_field_and_saves_nothing(login, staff_user):
    ClientFactory(account_number="C-000042")
    response = login(staff_user).post(
        reverse("clients:opportunity_create"),
        {
            "name": "Campus link",
            "client_account": "c-999999",
            "value": "-5",
            "stage": "proposal",
            "probability": "150",
            "expected_close_date": "not a date",
            "owner": staff_user.pk,
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["client_account"] == ["No client or prospect has the account number C-999999."]
    assert errors["value"] == ["The value cannot be negative."]
    assert errors["probability"] == ["Enter a percentage from 0 to 100."]
    assert "expected_close_date" in errors
    assert not Opportunity.objects.exists()


def test_staff_add_an_opportunity_with_the_stage_probability(login, staff_user):
    ClientFactory(account_number="C-000042", status=Client.Status.PROSPECT)
    response = login(staff_user).post(
        reverse("clients:opportunity_create"),
        {
            "name": "Campus link",
            "client_account": "c-000042",
            "value": "12000.00",
            "stage": "qualification",
            "probability": "",
            "expected_close_date": "2027-01-15",
            "owner": staff_user.pk,
        },
    )
    opportunity = Opportunity.objects.get()
    assert response["Location"] == reverse("clients:opportunity_detail", args=[opportunity.pk])
    assert (opportunity.probability, opportunity.value) == (25, Decimal("12000.00"))
    assert opportunity.client.account_number == "C-000042"


def test_the_list_filters_and_its_forecast_follows_the_filters(login, staff_user, admin_user):
    client = ClientFactory(name="Zed Quarry")
    _new(client, staff_user, stage=Stage.PROPOSAL, value="100.00")
    other = _new(ClientFactory(), admin_user, stage=Stage.NEGOTIATION, value="50.00")
    other.owner = admin_user
    other.save()
    page = login(staff_user).get(
        reverse("clients:opportunity_list"), {"owner": admin_user.pk, "state": "open"}
    )
    assert [o.pk for o in page.context["page"]] == [other.pk]
    assert page.context["forecast"].total_pipeline == Decimal("50.00")
    searched = login(staff_user).get(reverse("clients:opportunity_list"), {"q": "quarry"})
    assert [o.client.name for o in searched.context["page"]] == ["Zed Quarry"]
    bad = login(staff_user).get(
        reverse("clients:opportunity_list"), {"close_from": "2027-02-01", "close_to": "2027-01-01"}
    )
    assert bad.status_code == 200
    assert "The end date cannot be before the start date." in bad.content.decode()


def test_clients_never_reach_the_pipeline(login, alice_user):
    client = login(alice_user)
    for name in ("clients:pipeline", "clients:opportunity_list", "clients:opportunity_create"):
        assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", ["clients:pipeline", "clients:opportunity_list"])
def test_pipeline_pages_keep_a_constant_number_of_queries(
    login, staff_user, django_assert_max_num_queries, name
):
    client = login(staff_user)
    OpportunityFactory.create_batch(3, owner=staff_user)
    with django_assert_max_num_queries(12) as small:
        assert client.get(reverse(name)).status_code == 200
    for stage in Stage.values:
        OpportunityFactory.create_batch(
            6, owner=staff_user, stage=stage, expected_close_date=timezone.localdate()
        )
    OpportunityFactory(stage=Stage.WON, expected_close_date=timezone.localdate() - timedelta(1))
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(reverse(name)).status_code == 200


def test_every_pipeline_action_has_an_audit_label():
    from staff.audit import action_labels

    labels = action_labels()
    for action in ("opportunity.create", "opportunity.update", "opportunity.move"):
        assert labels[action]
    assert labels["client.activate"]


def test_the_demo_pipeline_has_every_stage_once_seeded(settings):
    from django.core.management import call_command

    from clients.pipeline_demo import seed_demo_opportunities

    settings.DEBUG = True
    call_command("seed_demo", stdout=None)
    stages = set(Opportunity.objects.values_list("stage", flat=True))
    assert stages == set(Stage.values)
    assert not Opportunity.objects.filter(stage=Stage.WON, client__status="prospect").exists()
    assert seed_demo_opportunities() == 0  # idempotent
