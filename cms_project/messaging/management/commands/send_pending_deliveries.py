"""Send (or, with a broker, enqueue) every pending delivery that is overdue.

Celery beat does this every minute (`requeue_stale_deliveries`). Without a broker there is no
beat, so a deployment that runs tasks eagerly can call this from cron instead; `--all` also
takes retries that are not yet due (after fixing an SMTP outage, say).
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from cms_project.messaging.models import Delivery
from cms_project.messaging.tasks import deliver, requeue_stale_deliveries


class Command(BaseCommand):
    help = "Send the pending deliveries that nobody picked up (queued or retrying, overdue)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            help="also retry now the deliveries whose next attempt is not due yet",
        )

    def handle(self, *args, **options):
        if options["all"]:
            pending = Delivery.objects.filter(
                status__in=[Delivery.Status.QUEUED, Delivery.Status.RETRYING]
            )
            ids = list(pending.values_list("pk", flat=True))
            pending.filter(pk__in=ids).update(next_attempt_at=timezone.now())
            for delivery_id in ids:
                deliver.delay(delivery_id)
            count = len(ids)
        else:
            count = requeue_stale_deliveries()
        self.stdout.write(f"{count} pending deliveries handed to the sender.")
