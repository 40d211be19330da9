"""Background tasks of the clients app: primary keys in, enqueued after commit."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


# acks_late (the project default): a worker lost mid-way leaves the task to be redone; the
# import's transaction rolled back with it, and the record is still in its working state.
@shared_task(ignore_result=True)
def check_import_task(import_id: int) -> None:
    from .importing import check_import, record_crash

    try:
        check_import(import_id=import_id)
    except Exception as exc:
        logger.exception("Checking client import %s failed", import_id)
        record_crash(import_id=import_id, exc=exc)


@shared_task(ignore_result=True)
def import_clients_task(import_id: int) -> None:
    from .importing import record_crash, run_import
    from .models import ClientImport

    try:
        run_import(client_import=ClientImport(pk=import_id))
    except Exception as exc:
        logger.exception("Client import %s failed", import_id)
        record_crash(import_id=import_id, exc=exc)
