"""Demo opportunities for the sales pipeline (seed_demo): a few per stage, prospects first."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from staff.models import Role, User

from .models import Client, Opportunity

Stage = Opportunity.Stage
DEMO = [
    ("Home fiber 1 Gig", "1078.80", Stage.PROSPECTING, 30),
    ("Office fiber and phones", "5400.00", Stage.QUALIFICATION, 21),
    ("Branch office link", "12600.00", Stage.PROPOSAL, 14),
    ("Mesh Wi-Fi upgrade", "480.00", Stage.NEGOTIATION, 7),
    ("TV bundle", "719.40", Stage.PROPOSAL, 20),
    ("Warehouse connectivity", "8400.00", Stage.WON, -10),
    ("Second home line", "600.00", Stage.LOST, -5),
]


def seed_demo_opportunities() -> int:
    """Adds the demo opportunities once (none exist yet). Returns how many were added."""
    owner = User.objects.filter(role=Role.STAFF, is_active=True).order_by("pk").first()
    if owner is None or Opportunity.objects.exists():
        return 0
    # Open opportunities go to prospects; won and lost ones to clients (a won prospect would
    # have become a client).
    prospects = list(Client.objects.filter(status=Client.Status.PROSPECT).order_by("pk")[:5])
    active = list(Client.objects.filter(status=Client.Status.ACTIVE).order_by("pk")[:7])
    clients = []
    for _, _, stage, _ in DEMO:
        pool = prospects if stage in Opportunity.OPEN_STAGES and prospects else active
        clients.append(pool.pop(0) if pool else None)
    today = timezone.localdate()
    rows = [
        Opportunity(
            client=client,
            name=name,
            value=Decimal(value),
            stage=stage,
            probability=Opportunity.STAGE_PROBABILITY[stage],
            expected_close_date=today + timedelta(days=days),
            closed_on=today + timedelta(days=days) if stage in Opportunity.CLOSED_STAGES else None,
            owner=owner,
            created_by=owner,
        )
        for client, (name, value, stage, days) in zip(clients, DEMO, strict=True)
        if client is not None
    ]
    Opportunity.objects.bulk_create(rows)
    return len(rows)
