"""Demo clients of Data Plus Fiber, and bulk generation of realistic clients for benchmarks.

`seed_demo_clients()` is idempotent: each demo client is recognised by its email address (Alice
and Bob by their portal login) and only what is missing is added. `generate_clients(n)` always
adds n new clients with bulk inserts (100,000 in well under two minutes on PostgreSQL).
"""

import random
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from staff.models import Role, User

from .accounts import create_client, reserve_account_numbers
from .bulkload import BULK_TABLES, can_tune, set_pending_lists
from .equipment import add_equipment
from .models import Client, Equipment, FollowUpTask, Interaction, ServiceLocation

FIRST_NAMES = [
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mateo", "Amelia", "Ethan", "Harper", "Henry", "Evelyn", "Daniel", "Abigail", "Jack",
    "Grace", "Samuel", "Chloe", "David", "Nora", "Joseph", "Riley", "Owen", "Zoe", "Wyatt",
    "Priya", "Omar", "Mei", "Diego", "Fatima", "Kwame", "Sofia", "Andrei", "Leila", "Tomás",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Lee", "Perez", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Patel", "Kim", "Okafor", "Novak",
]  # fmt: skip
STREETS = [
    "Oak Street", "Maple Avenue", "Cedar Lane", "Walnut Street", "Lincoln Avenue", "Washington Street",
    "Elm Street", "Monroe Street", "Adams Street", "Jefferson Street", "Prairie Road", "Lake Drive",
    "Chestnut Street", "Park Avenue", "Sangamon Avenue", "Wabash Avenue", "Veterans Parkway",
    "Stevenson Drive", "Macarthur Boulevard", "Outer Park Drive",
]  # fmt: skip
CITIES = [
    ("Springfield", "62701", "217"), ("Springfield", "62704", "217"), ("Chatham", "62629", "217"),
    ("Rochester", "62563", "217"), ("Sherman", "62684", "217"), ("Decatur", "62521", "217"),
    ("Peoria", "61602", "309"), ("Bloomington", "61701", "309"), ("Champaign", "61820", "217"),
    ("Jacksonville", "62650", "217"),
]  # fmt: skip
COMPANY_WORDS = [
    "Prairie", "Lincoln", "Capitol", "Sangamon", "Heartland", "Riverside", "Main Street",
    "Cornbelt", "Route 66", "Lakeside",
]  # fmt: skip
COMPANY_KINDS = ["Dental", "Bakery", "Hardware", "Law Office", "Auto Repair", "Cafe", "Realty",
                 "Veterinary Clinic", "Print Shop", "Florist"]  # fmt: skip
DEVICES = [
    (Equipment.Kind.ONT, "ZTEG", "Nokia G-010G-Q"),
    (Equipment.Kind.ROUTER, "EER", "Eero Pro 6E"),
    (Equipment.Kind.MESH, "EEM", "Eero 6+"),
    (Equipment.Kind.SET_TOP_BOX, "STB", "Amino H200"),
]
INTERACTIONS = [
    (Interaction.Kind.CALL, "Asked about faster plans", "Explained 1 Gig upgrade", "Send a quote"),
    (Interaction.Kind.EMAIL, "Invoice question", "Clarified proration on first invoice", ""),
    (
        Interaction.Kind.SITE_VISIT,
        "Installation",
        "ONT and router installed, speed test 940 Mbps",
        "",
    ),
    (
        Interaction.Kind.SUPPORT_CASE,
        "Wi-Fi drops upstairs",
        "Suggested a mesh unit",
        "Offer mesh rental",
    ),
    (
        Interaction.Kind.MEETING,
        "Quarterly review",
        "Happy with uptime; asks for static IP",
        "Price a static IP",
    ),
]


def _phone(rng: random.Random, area: str) -> str:
    # 555-01xx numbers are reserved for fiction in North America, and valid for phonenumbers.
    return f"+1{area}5550{rng.randint(100, 199)}"


def _mac(n: int) -> str:
    return "3C:84:6A:" + ":".join(f"{(n >> s) & 0xFF:02X}" for s in (16, 8, 0))


# --- The few dozen demo clients ------------------------------------------------------------
PERSONAS = [
    # portal login email, name, street, city index
    ("client@dataplusfiber.example", "Alice Martin", "14 Cedar Lane", 1),
    ("client2@dataplusfiber.example", "Bob Nguyen", "207 Walnut Street", 0),
]


def _demo_people(count: int) -> list[dict]:
    """Deterministic demo clients: the same names and addresses on every run."""
    rng = random.Random(2026)
    people = []
    for i in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        city, postal, area = rng.choice(CITIES)
        business = i % 6 == 5
        people.append(
            {
                "name": f"{first} {last}",
                "company_name": (
                    f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}" if business else ""
                ),
                "email": f"{first}.{last}.{i}@demo.dataplusfiber.example".lower(),
                "phone": _phone(rng, area),
                "street": f"{rng.randint(10, 2999)} {rng.choice(STREETS)}",
                "city": city,
                "postal": postal,
                "segment": Client.Segment.BUSINESS if business else Client.Segment.RESIDENTIAL,
                "status": rng.choice(
                    [Client.Status.ACTIVE] * 6 + [Client.Status.PROSPECT, Client.Status.SUSPENDED]
                ),
                "days_ago": rng.randint(20, 900),
                "locations": 2 if business and rng.random() < 0.6 else 1,
                "rng_seed": rng.randint(0, 10**9),
            }
        )
    return people


def _equip_location(location: ServiceLocation, seed: int, staff: User | None) -> None:
    rng = random.Random(seed)
    kinds = [DEVICES[0], DEVICES[1]]
    if rng.random() < 0.3:
        kinds.append(DEVICES[2])
    if rng.random() < 0.2:
        kinds.append(DEVICES[3])
    for offset, (kind, prefix, model) in enumerate(kinds):
        serial = f"{prefix}D{location.pk:05d}{rng.randint(100, 999)}"
        if Equipment.objects.filter(serial_number=serial).exists():
            continue
        add_equipment(
            equipment=Equipment(
                location=location,
                kind=kind,
                make_model=model,
                serial_number=serial,
                mac_address=_mac((seed + offset) % 0xFFFFFF) if kind != Equipment.Kind.ONT else "",
                status=Equipment.Status.INSTALLED,
                install_date=location.install_date,
                ownership=Equipment.Ownership.RENTED,
            ),
            by=staff,
        )


def _demo_client(person: dict, *, user: User | None, staff: User | None) -> Client:
    today = timezone.localdate()
    signup = today - timedelta(days=person["days_ago"])
    client = create_client(
        name=person["name"],
        company_name=person["company_name"],
        email=person["email"],
        phone=person["phone"],
        status=person["status"],
        segment=person["segment"],
        user=user,
        signup_date=signup,
        billing_street=person["street"],
        billing_city=person["city"],
        billing_postal_code=person["postal"],
        consent_sms=True,
        consent_sms_at=timezone.now() - timedelta(days=person["days_ago"]),
    )
    rng = random.Random(person["rng_seed"])
    for index in range(person["locations"]):
        street = person["street"] if index == 0 else f"{rng.randint(10, 999)} {rng.choice(STREETS)}"
        location = ServiceLocation.objects.create(
            client=client,
            label=("Main office" if index == 0 else "Warehouse") if client.company_name else "Home",
            street=street,
            city=person["city"],
            postal_code=person["postal"],
            install_date=signup + timedelta(days=10),
            status=ServiceLocation.Status.ACTIVE,
        )
        _equip_location(location, person["rng_seed"] + index, staff)
    for kind, subject, outcome, next_action in rng.sample(INTERACTIONS, k=rng.randint(1, 3)):
        Interaction.objects.create(
            client=client,
            kind=kind,
            subject=subject,
            outcome=outcome,
            next_action=next_action,
            notes="",
            duration_minutes=rng.choice([5, 10, 15, 30, 60]),
            occurred_at=timezone.now() - timedelta(days=rng.randint(0, person["days_ago"])),
            logged_by=staff,
        )
        if next_action and staff is not None:
            FollowUpTask.objects.create(
                title=next_action,
                client=client,
                assignee=staff,
                due_date=today + timedelta(days=rng.randint(-5, 10)),  # some overdue
                priority=rng.choice(FollowUpTask.Priority.values),
                created_by=staff,
            )
    return client


@transaction.atomic
def seed_demo_clients(count: int = 36) -> int:
    """The demo clients, Alice's and Bob's accounts included. Returns how many were added."""
    staff = User.objects.filter(role=Role.STAFF, is_active=True).order_by("pk").first()
    added = 0
    rng = random.Random(7)
    for email, name, street, city_index in PERSONAS:
        user = User.objects.filter(email=email).first()
        if user is None or Client.objects.filter(user=user).exists():
            continue
        city, postal, area = CITIES[city_index]
        person = {
            "name": name,
            "company_name": "",
            "email": email,
            "phone": _phone(rng, area),
            "street": street,
            "city": city,
            "postal": postal,
            "segment": Client.Segment.RESIDENTIAL,
            "status": Client.Status.ACTIVE,
            "days_ago": 400,
            "locations": 1,
            "rng_seed": rng.randint(0, 10**9),
        }
        _demo_client(person, user=user, staff=staff)
        added += 1
    existing = set(
        Client.objects.filter(email__endswith="@demo.dataplusfiber.example").values_list(
            "email", flat=True
        )
    )
    for person in _demo_people(count):
        if person["email"] not in existing:
            _demo_client(person, user=None, staff=staff)
            added += 1
    if staff is not None and not FollowUpTask.objects.filter(client__isnull=True).exists():
        FollowUpTask.objects.create(
            title="Review this month's new sign-ups",
            assignee=staff,
            due_date=timezone.localdate() - timedelta(days=1),
            priority=FollowUpTask.Priority.HIGH,
            created_by=staff,
        )
    return added


# --- Bulk generation for benchmarks ----------------------------------------------------------
def generate_clients(
    count: int, *, batch_size: int = 5000, seed: int | None = None
) -> dict[str, int]:
    """Add `count` realistic clients with 1–3 locations and an ONT and router at each, in bulk.
    Runs in batches, each its own transaction, so memory stays flat and progress is kept."""
    rng = random.Random(seed)
    totals = {"clients": 0, "locations": 0, "equipment": 0}
    _trigram_pending_lists(enabled=True)
    today = timezone.localdate()
    now = timezone.now()
    for start in range(0, count, batch_size):
        size = min(batch_size, count - start)
        with transaction.atomic():
            numbers = reserve_account_numbers(size)
            clients = []
            for number in numbers:
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                city, postal, area = rng.choice(CITIES)
                business = rng.random() < 0.12
                consent = rng.random() < 0.6
                clients.append(
                    Client(
                        account_number=number,
                        name=f"{first} {last}",
                        company_name=(
                            f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
                            if business
                            else ""
                        ),
                        email=f"{first}.{last}.{number[2:]}@example.net".lower(),
                        phone=_phone(rng, area),
                        billing_street=f"{rng.randint(10, 9999)} {rng.choice(STREETS)}",
                        billing_city=city,
                        billing_postal_code=postal,
                        status=rng.choices(Client.Status.values, weights=[5, 85, 4, 6], k=1)[0],
                        segment=Client.Segment.BUSINESS if business else Client.Segment.RESIDENTIAL,
                        signup_date=today - timedelta(days=rng.randint(0, 3000)),
                        consent_sms=consent,
                        consent_sms_at=now if consent else None,
                    )
                )
            Client.objects.bulk_create(clients, batch_size=2000)
            locations = []
            for client in clients:
                n_locations = rng.choices([1, 2, 3], weights=[85, 12, 3], k=1)[0]
                for index in range(n_locations):
                    street = (
                        client.billing_street
                        if index == 0
                        else (f"{rng.randint(10, 9999)} {rng.choice(STREETS)} Unit {index}")
                    )
                    locations.append(
                        ServiceLocation(
                            client_id=client.pk,
                            label="Home" if not client.company_name else f"Site {index + 1}",
                            street=street,
                            city=client.billing_city,
                            postal_code=client.billing_postal_code,
                            install_date=client.signup_date + timedelta(days=7),
                        )
                    )
            ServiceLocation.objects.bulk_create(locations, batch_size=2000)
            equipment = []
            for location in locations:
                for kind, prefix, model in DEVICES[:2]:
                    equipment.append(
                        Equipment(
                            location_id=location.pk,
                            kind=kind,
                            make_model=model,
                            # Unique: the location id is unique, the prefix tells the kind.
                            serial_number=f"{prefix}B{location.pk:09d}",
                            mac_address=_mac(location.pk) if kind == Equipment.Kind.ROUTER else "",
                            status=Equipment.Status.INSTALLED,
                            install_date=location.install_date,
                        )
                    )
            Equipment.objects.bulk_create(equipment, batch_size=2000)
        totals["clients"] += len(clients)
        totals["locations"] += len(locations)
        totals["equipment"] += len(equipment)
    _refresh_statistics()
    _trigram_pending_lists(enabled=False)
    return totals


def _can_tune() -> bool:
    return can_tune()


def _trigram_pending_lists(*, enabled: bool) -> None:
    """With fastupdate off a bulk load takes three times as long (100,000 clients: 143 s
    instead of 50 s), so the load turns it on and VACUUM merges the list at the end."""
    set_pending_lists(enabled=enabled, tables=BULK_TABLES)


def _refresh_statistics() -> None:
    """After a bulk load on PostgreSQL: VACUUM merges the GIN indexes' pending entries (until
    then every trigram search scans them) and ANALYZE lets the planner see the new rows."""
    if not _can_tune():
        return
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(BULK_TABLES)}")
