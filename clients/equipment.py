"""Service locations and the equipment at them: adding, moving, returning to stock.

Every change of where a device is (or of its status) appends an EquipmentMove, so the history of
a serial number can always be read back: installed at A, returned, installed at B…
"""

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from staff.audit import created, diff, record, snapshot
from staff.models import User

from .models import Client, Equipment, EquipmentMove, ServiceLocation

# Where a device may be, by status: at a location it is installed (or faulty, awaiting a swap);
# in stock it is in stock, returned or faulty.
STATUSES_AT_LOCATION = (Equipment.Status.INSTALLED, Equipment.Status.FAULTY)
STATUSES_IN_STOCK = (
    Equipment.Status.IN_STOCK,
    Equipment.Status.RETURNED,
    Equipment.Status.FAULTY,
)


# What the audit log keeps of a location and of a device, before and after each change.
LOCATION_FIELDS = [
    "client",
    "label",
    "street",
    "city",
    "postal_code",
    "latitude",
    "longitude",
    "install_date",
    "status",
]
EQUIPMENT_FIELDS = [
    "kind",
    "make_model",
    "serial_number",
    "mac_address",
    "install_date",
    "ownership",
    "location",
    "status",
]
DETAIL_FIELDS = ["kind", "make_model", "serial_number", "mac_address", "install_date", "ownership"]


class EquipmentRuleError(Exception):
    """A move that the rules above forbid; the message is shown to the user."""


def check_placement(*, location: ServiceLocation | None, status: str) -> None:
    if location is not None and status not in STATUSES_AT_LOCATION:
        raise EquipmentRuleError("Equipment at a location is either installed or faulty.")
    if location is None and status not in STATUSES_IN_STOCK:
        raise EquipmentRuleError("Equipment in stock is in stock, returned or faulty.")


@transaction.atomic
def save_location(
    *,
    location: ServiceLocation,
    by: User | None = None,
    request: HttpRequest | None = None,
) -> ServiceLocation:
    """Save a new or edited location (audited: `location.create` / `location.update`)."""
    previous = ServiceLocation.objects.filter(pk=location.pk).first() if location.pk else None
    location.save()
    if previous is None:
        record(
            actor=by,
            action="location.create",
            obj=location,
            changes=created(location, LOCATION_FIELDS),
            request=request,
        )
    else:
        changes = diff(snapshot(previous, LOCATION_FIELDS), location, LOCATION_FIELDS)
        if changes:
            record(
                actor=by, action="location.update", obj=location, changes=changes, request=request
            )
    return location


@transaction.atomic
def add_equipment(
    *,
    equipment: Equipment,
    by: User | None,
    note: str = "",
    request: HttpRequest | None = None,
) -> Equipment:
    """Record a new device, at `equipment.location` or in stock, and the first line of its
    history."""
    check_placement(location=equipment.location, status=equipment.status)
    if equipment.location_id and equipment.status == Equipment.Status.INSTALLED:
        equipment.install_date = equipment.install_date or timezone.localdate()
    equipment.save()
    EquipmentMove.objects.create(
        equipment=equipment,
        from_location=None,
        to_location=equipment.location,
        status=equipment.status,
        moved_by=by,
        note=note or ("Installed" if equipment.location_id else "Received into stock"),
    )
    record(
        actor=by,
        action="equipment.create",
        obj=equipment,
        changes=created(equipment, EQUIPMENT_FIELDS),
        note=note,
        request=request,
    )
    return equipment


@transaction.atomic
def save_equipment_details(
    *,
    equipment: Equipment,
    by: User | None = None,
    request: HttpRequest | None = None,
) -> Equipment:
    """Make/model, serial, MAC, ownership, install date. Where it is and its status change
    only through `move_equipment`, so the history stays complete."""
    previous = Equipment.objects.select_for_update().get(pk=equipment.pk)
    equipment.save(
        update_fields=[
            "kind",
            "make_model",
            "serial_number",
            "mac_address",
            "install_date",
            "ownership",
        ]
    )
    changes = diff(snapshot(previous, DETAIL_FIELDS), equipment, DETAIL_FIELDS)
    if changes:
        record(actor=by, action="equipment.update", obj=equipment, changes=changes, request=request)
    return equipment


@transaction.atomic
def move_equipment(
    *,
    equipment: Equipment,
    to_location: ServiceLocation | None,
    status: str,
    by: User | None,
    note: str = "",
    request: HttpRequest | None = None,
) -> Equipment:
    """Move a device to another location or back to stock (to_location=None), or change its
    status where it is. The row is locked so two people moving it at once queue up."""
    check_placement(location=to_location, status=status)
    device = Equipment.objects.select_for_update().get(pk=equipment.pk)
    from_location = device.location
    before = snapshot(device, ["location", "status", "install_date"])
    if from_location == to_location and device.status == status:
        raise EquipmentRuleError("The equipment is already there with that status.")
    device.location = to_location
    device.status = status
    if to_location is not None and to_location != from_location:
        device.install_date = timezone.localdate()
    device.save(update_fields=["location", "status", "install_date"])
    EquipmentMove.objects.create(
        equipment=device,
        from_location=from_location,
        to_location=to_location,
        status=status,
        moved_by=by,
        note=note,
    )
    record(
        actor=by,
        action="equipment.move",
        obj=device,
        changes=diff(before, device, ["location", "status", "install_date"]),
        note=note,
        request=request,
    )
    return device


def find_stock_equipment(serial: str) -> Equipment | None:
    """A device in stock (not at any location) that may be installed somewhere."""
    return (
        Equipment.objects.filter(serial_number=serial, location__isnull=True)
        .exclude(status=Equipment.Status.FAULTY)
        .first()
    )


@transaction.atomic
def return_all_equipment_to_stock(*, client: Client, by: User | None) -> int:
    """Before a client is deleted: every device at its locations goes back to stock as
    returned. The note keeps the address, since the location rows are about to go."""
    devices = list(
        Equipment.objects.select_for_update()
        .filter(location__client=client)
        .select_related("location")
    )
    for device in devices:
        EquipmentMove.objects.create(
            equipment=device,
            from_location=device.location,
            to_location=None,
            status=Equipment.Status.RETURNED,
            moved_by=by,
            note=f"Client {client.account_number} deleted; was at {device.location}"[:200],
        )
    Equipment.objects.filter(pk__in=[d.pk for d in devices]).update(
        location=None, status=Equipment.Status.RETURNED
    )
    return len(devices)
