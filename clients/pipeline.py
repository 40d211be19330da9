"""The sales pipeline: opportunities, moving them through the stages, and the forecast.

Probability: an opportunity starts with its stage's probability; staff may set another. Moving
to another stage takes the new stage's probability unless the old one had been overridden;
Closed Won is always 100 % and Closed Lost 0 %.

Winning an opportunity for a prospect makes the prospect an active client (in the same
transaction), so the next step — subscribing them to a service — can follow at once.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.utils import timezone

from cms_project.money import ZERO, round_money
from staff.audit import record
from staff.models import User

from .models import Client, Opportunity

Stage = Opportunity.Stage


def default_probability(stage: str) -> int:
    return Opportunity.STAGE_PROBABILITY[Stage(stage)]


@transaction.atomic
def save_opportunity(
    *, opportunity: Opportunity, by: User, probability: int | None = None
) -> Opportunity:
    """Create or update an opportunity; `probability` None means "the stage's default"."""
    creating = opportunity.pk is None
    if creating:
        opportunity.created_by = by
    stage_changed = False
    if not creating:
        before = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        stage_changed = before.stage != opportunity.stage
    opportunity.probability = _probability_for(opportunity.stage, probability)
    opportunity.closed_on = _closed_on(opportunity)
    opportunity.save()
    record(
        actor=by,
        action="opportunity.create" if creating else "opportunity.update",
        obj=opportunity,
        changes={"stage": [None if creating else before.stage, opportunity.stage]}
        if creating or stage_changed
        else None,
    )
    if opportunity.stage == Stage.WON:
        _activate_prospect(client=opportunity.client, by=by)
    return opportunity


def _probability_for(stage: str, probability: int | None) -> int:
    if stage == Stage.WON:
        return 100
    if stage == Stage.LOST:
        return 0
    return default_probability(stage) if probability is None else probability


def _closed_on(opportunity: Opportunity) -> date | None:
    if opportunity.stage in Opportunity.CLOSED_STAGES:
        return opportunity.closed_on or timezone.localdate()
    return None


@dataclass(frozen=True)
class MoveResult:
    opportunity: Opportunity
    client_activated: bool  # a prospect became an active client


@transaction.atomic
def move_opportunity(*, opportunity: Opportunity, stage: str, by: User) -> MoveResult:
    """Move an opportunity to another stage (the board's action)."""
    opportunity = (
        Opportunity.objects.select_for_update().select_related("client").get(pk=opportunity.pk)
    )
    stage = Stage(stage)
    old = opportunity.stage
    if stage == old:
        return MoveResult(opportunity=opportunity, client_activated=False)
    overridden = opportunity.probability != default_probability(old)
    keep = (
        overridden
        and stage not in Opportunity.CLOSED_STAGES
        and old not in (Opportunity.CLOSED_STAGES)
    )
    opportunity.stage = stage
    opportunity.probability = _probability_for(stage, opportunity.probability if keep else None)
    opportunity.closed_on = _closed_on(opportunity) if stage in Opportunity.CLOSED_STAGES else None
    opportunity.save(update_fields=["stage", "probability", "closed_on", "updated_at"])
    record(actor=by, action="opportunity.move", obj=opportunity, changes={"stage": [old, stage]})
    activated = stage == Stage.WON and _activate_prospect(client=opportunity.client, by=by)
    return MoveResult(opportunity=opportunity, client_activated=activated)


def _activate_prospect(*, client: Client, by: User) -> bool:
    """A won prospect becomes an active client. Returns whether it changed."""
    updated = Client.objects.filter(pk=client.pk, status=Client.Status.PROSPECT).update(
        status=Client.Status.ACTIVE, updated_at=timezone.now()
    )
    if updated:
        client.status = Client.Status.ACTIVE
        record(
            actor=by,
            action="client.activate",
            obj=client,
            changes={"status": [Client.Status.PROSPECT, Client.Status.ACTIVE]},
            note="Won an opportunity",
        )
    return bool(updated)


# --- Reading -------------------------------------------------------------------------------
def opportunities(
    *,
    stage: str = "",
    owner: User | None = None,
    client: Client | None = None,
    q: str = "",
    close_from: date | None = None,
    close_to: date | None = None,
    state: str = "",
) -> QuerySet[Opportunity]:
    """The opportunities matching the list's filters, with client and owner loaded."""
    result = Opportunity.objects.select_related("client", "owner")
    if stage:
        result = result.filter(stage=stage)
    if state == "open":
        result = result.filter(stage__in=Opportunity.OPEN_STAGES)
    elif state == "closed":
        result = result.filter(stage__in=Opportunity.CLOSED_STAGES)
    if owner is not None:
        result = result.filter(owner=owner)
    if client is not None:
        result = result.filter(client=client)
    if q:
        result = result.filter(
            Q(name__icontains=q)
            | Q(client__name__icontains=q)
            | Q(client__company_name__icontains=q)
            | Q(client__account_number__iexact=q)
        )
    if close_from:
        result = result.filter(expected_close_date__gte=close_from)
    if close_to:
        result = result.filter(expected_close_date__lte=close_to)
    return result


@dataclass(frozen=True)
class Forecast:
    total_pipeline: Decimal  # Σ value of the open opportunities
    weighted: Decimal  # Σ value × probability of the open ones
    best_case: Decimal  # Σ value of the open ones at Proposal or later
    open_count: int
    won_count: int
    lost_count: int
    won_value: Decimal

    @property
    def win_rate(self) -> Decimal | None:
        """Won ÷ closed, in percent (one decimal); None while nothing is closed."""
        closed = self.won_count + self.lost_count
        if not closed:
            return None
        return (Decimal(self.won_count) * 100 / closed).quantize(Decimal("0.1"))


_MONEY = DecimalField(max_digits=16, decimal_places=4)


def forecast(queryset: QuerySet[Opportunity] | None = None) -> Forecast:
    """The forecast of a set of opportunities (default: all), in one aggregate query."""
    queryset = Opportunity.objects.all() if queryset is None else queryset
    is_open = Q(stage__in=Opportunity.OPEN_STAGES)
    row = queryset.order_by().aggregate(
        total=Sum("value", filter=is_open),
        weighted=Sum(
            ExpressionWrapper(F("value") * F("probability"), output_field=_MONEY), filter=is_open
        ),
        best=Sum("value", filter=Q(stage__in=Opportunity.BEST_CASE_STAGES)),
        open_count=Count("pk", filter=is_open),
        won_count=Count("pk", filter=Q(stage=Stage.WON)),
        lost_count=Count("pk", filter=Q(stage=Stage.LOST)),
        won_value=Sum("value", filter=Q(stage=Stage.WON)),
    )
    return Forecast(
        total_pipeline=_money(row["total"]),
        # value × percent summed exactly, divided and rounded once: no cent lost per row.
        weighted=round_money(_decimal(row["weighted"]) / 100),
        best_case=_money(row["best"]),
        open_count=row["open_count"],
        won_count=row["won_count"],
        lost_count=row["lost_count"],
        won_value=_money(row["won_value"]),
    )


def _decimal(value) -> Decimal:
    # SQLite returns arithmetic on decimals as floats: back through str().
    return Decimal(str(value)) if value is not None else ZERO


def _money(value) -> Decimal:
    return round_money(_decimal(value))


def board(queryset: QuerySet[Opportunity]) -> list[dict]:
    """The board: one column per stage with its opportunities and total, in stage order.
    Two queries whatever the number of opportunities (the rows and the per-stage totals)."""
    totals = {
        row["stage"]: row
        for row in queryset.order_by()
        .values("stage")
        .annotate(count=Count("pk"), total=Sum("value"))
    }
    by_stage: dict[str, list[Opportunity]] = {stage: [] for stage in Stage.values}
    for opportunity in queryset:
        by_stage[opportunity.stage].append(opportunity)
    return [
        {
            "stage": stage,
            "label": stage.label,
            "probability": default_probability(stage),
            "opportunities": by_stage[stage],
            "count": totals.get(stage, {}).get("count", 0),
            "total": _money(totals.get(stage, {}).get("total")),
        }
        for stage in Stage
    ]
