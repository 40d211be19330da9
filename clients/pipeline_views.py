"""Sales pipeline pages (staff): the board by stage, the list with filters, the forecast,
adding, editing and moving opportunities. Moving is a plain POST form: no JavaScript needed."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from staff.permissions import workspace_required

from . import pipeline
from .models import Client, Opportunity
from .pipeline_forms import MoveForm, OpportunityFilterForm, OpportunityForm

PAGE_SIZE = 50
# Closed opportunities stay on the board this long, then only the list shows them.
BOARD_CLOSED_DAYS = 30


def _get_opportunity(pk: int) -> Opportunity:
    return get_object_or_404(Opportunity.objects.select_related("client", "owner"), pk=pk)


@workspace_required
def pipeline_board(request):
    filters = OpportunityFilterForm(request.GET or None)
    chosen = filters.filters()
    chosen.pop("state", None)
    chosen.pop("stage", None)
    matching = pipeline.opportunities(**chosen)
    recent = timezone.localdate() - timedelta(days=BOARD_CLOSED_DAYS)
    on_board = matching.exclude(stage__in=Opportunity.CLOSED_STAGES, closed_on__lt=recent)
    return render(
        request,
        "clients/pipeline_board.html",
        {
            "filters": filters,
            "columns": pipeline.board(on_board),
            "forecast": pipeline.forecast(matching),
            "move_choices": Opportunity.Stage.choices,
            "closed_days": BOARD_CLOSED_DAYS,
        },
    )


@workspace_required
def opportunity_list(request):
    filters = OpportunityFilterForm(request.GET or None)
    matching = pipeline.opportunities(**filters.filters())
    page = Paginator(matching, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "clients/opportunity_list.html",
        {"filters": filters, "page": page, "forecast": pipeline.forecast(matching)},
    )


def _form_page(request, *, opportunity: Opportunity, client: Client | None):
    form = OpportunityForm(request.POST or None, instance=opportunity, client=client)
    if request.method == "POST" and form.is_valid():
        creating = opportunity.pk is None
        saved = pipeline.save_opportunity(
            opportunity=form.save(commit=False),
            by=request.user,
            probability=form.cleaned_data["probability"],
        )
        messages.success(
            request, f"Opportunity “{saved.name}” was {'added' if creating else 'saved'}."
        )
        return redirect("clients:opportunity_detail", pk=saved.pk)
    return render(
        request,
        "clients/opportunity_form.html",
        {"form": form, "opportunity": opportunity, "client": client},
    )


@workspace_required
def opportunity_create(request):
    today = timezone.localdate()
    opportunity = Opportunity(owner=request.user, expected_close_date=today + timedelta(days=30))
    return _form_page(request, opportunity=opportunity, client=None)


@workspace_required
def client_opportunity_create(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    opportunity = Opportunity(
        owner=request.user, expected_close_date=timezone.localdate() + timedelta(days=30)
    )
    return _form_page(request, opportunity=opportunity, client=client)


@workspace_required
def opportunity_edit(request, pk: int):
    return _form_page(request, opportunity=_get_opportunity(pk), client=None)


@workspace_required
def opportunity_detail(request, pk: int):
    opportunity = _get_opportunity(pk)
    return render(
        request,
        "clients/opportunity_detail.html",
        {"opportunity": opportunity, "move_form": MoveForm(initial={"stage": opportunity.stage})},
    )


@workspace_required
@require_POST
def opportunity_move(request, pk: int):
    opportunity = _get_opportunity(pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the stages to move the opportunity to.")
        return redirect("clients:pipeline")
    result = pipeline.move_opportunity(
        opportunity=opportunity, stage=form.cleaned_data["stage"], by=request.user
    )
    moved = result.opportunity
    if result.client_activated:
        messages.success(
            request,
            f"“{moved.name}” is won: {moved.client.display_name} is now an active client.",
        )
        # The page offers the next step: subscribing the new client to a service.
        return redirect("clients:opportunity_detail", pk=moved.pk)
    messages.success(request, f"“{moved.name}” moved to {moved.get_stage_display()}.")
    if request.POST.get("from") == "detail":
        return redirect("clients:opportunity_detail", pk=moved.pk)
    return redirect(f"{reverse('clients:pipeline')}#stage-{moved.stage}")
