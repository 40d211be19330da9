"""Demo accounts of Data Plus Fiber. For demos only: the password is public."""

from .models import Role, User

DEMO_PASSWORD = "demo-pass-2026"

DEMO_ACCOUNTS = [
    # email, first name, last name, role
    ("admin@dataplusfiber.example", "Dana", "Okafor", Role.ADMIN),
    ("staff@dataplusfiber.example", "Sam", "Rivera", Role.STAFF),
    ("client@dataplusfiber.example", "Alice", "Martin", Role.CLIENT),
    ("client2@dataplusfiber.example", "Bob", "Nguyen", Role.CLIENT),
]


def seed_demo_accounts() -> list[tuple[User, bool]]:
    """Create the demo logins that do not exist yet; existing ones are left exactly as they are."""
    results = []
    for email, first, last, role in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(
            email=email, defaults={"first_name": first, "last_name": last, "role": role}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        results.append((user, created))
    return results
