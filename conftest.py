"""Project-wide test fixtures: the personas every test speaks of, and test-run policy.

Personas: an admin, a staff member, and two clients, Alice and Bob, who must never see each
other's data.
"""

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from django.db import connection

from staff.models import Role
from staff.tests.factories import UserFactory

CHROMIUM = "/usr/bin/chromium"

# Playwright's sync API keeps an event loop running in the test thread for the whole session
# once a browser test has started; the ORM calls tests make are still sequential, so Django's
# async-safety guard does not apply. (Never set this in a deployment: check --deploy refuses.)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# --- Test-run policy ---------------------------------------------------------------------
_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    # CI sets CMS_FORBID_SKIPS=1: on PostgreSQL with Chromium present nothing may be skipped,
    # so a concurrency or browser test cannot silently stop running.
    if os.environ.get("CMS_FORBID_SKIPS") == "1" and _skipped:
        print("\nCMS_FORBID_SKIPS: these tests were skipped:\n  " + "\n  ".join(_skipped))
        session.exitstatus = 1


def pytest_collection_modifyitems(config, items):
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "psql", "pgsql"))
    for item in items:
        if "postgres_only" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "browser" in item.keywords and not shutil.which(CHROMIUM):
            item.add_marker(
                pytest.mark.skip(reason=f"{CHROMIUM} missing: apt-get install chromium")
            )


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate limits and the cached security policy live in the cache: no test sees another's.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


class QueuedSms(Sequence):
    """The SMS the real messaging layer has queued so far, oldest first, as {"to", "body",
    "purpose"} dicts (read from the delivery log each time, so it is always current)."""

    def _rows(self) -> list[dict]:
        from cms_project.messaging.models import Delivery

        return [
            {"to": d.to, "body": d.body, "purpose": d.purpose}
            for d in Delivery.objects.filter(channel=Delivery.Channel.SMS).order_by("pk")
        ]

    def __getitem__(self, index):
        return self._rows()[index]

    def __len__(self) -> int:
        return len(self._rows())

    def __eq__(self, other) -> bool:
        return self._rows() == list(other)


@pytest.fixture
def sent_sms(db) -> QueuedSms:
    """SMS queued through `cms_project.messaging.sending.queue_sms` during the test."""
    return QueuedSms()


# --- Personas ----------------------------------------------------------------------------
@pytest.fixture
def admin_user(db):
    return UserFactory(
        email="admin@test.example", first_name="Ada", last_name="Admin", role=Role.ADMIN
    )


@pytest.fixture
def staff_user(db):
    return UserFactory(
        email="staff@test.example", first_name="Sam", last_name="Staff", role=Role.STAFF
    )


@pytest.fixture
def alice_user(db):
    return UserFactory(email="alice@test.example", first_name="Alice", last_name="Martin")


@pytest.fixture
def bob_user(db):
    return UserFactory(email="bob@test.example", first_name="Bob", last_name="Nguyen")


@pytest.fixture
def login(client):
    """login(user) -> Django test client logged in as that user."""

    def _login(user):
        from staff.middleware import stamp_login

        client.force_login(user)
        # As the log-in view does: start the session clocks, so the first request of a test
        # does not write the session (query counts stay those of the page itself).
        session = client.session
        stamp_login(session)
        session.save()
        return client

    return _login


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


# --- Browser (Playwright driving Debian's Chromium) ---------------------------------------
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


# --- Accessibility (axe-core inside the browser tests) ------------------------------------
# Vendored, test-only (cms_project/tests/assets/…/README.md says where it comes from).
AXE_SCRIPT = Path(__file__).parent / "cms_project/tests/assets/axe-core-4.14.1/axe.min.js"
# The strict CSP (script-src 'self') blocks the inline <script> that
# page.add_script_tag(path=…) inserts. Instead Playwright answers this same-origin URL with the
# vendored file (the request never reaches Django), so the page's CSP stays enforced in every
# browser test — no bypass_csp, which would hide a CSP violation in our own pages.
AXE_URL = "/__axe-core__/axe.min.js"
AXE_FAILING_IMPACTS = ("serious", "critical")
PHONE_VIEWPORT = {"width": 390, "height": 844}

_OVERFLOW_JS = """() => {
  const root = document.documentElement;
  const width = root.clientWidth;
  const culprits = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1) {
      const id = el.id ? '#' + el.id : '';
      const cls = typeof el.className === 'string' && el.className.trim()
        ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
      culprits.push(`${el.tagName.toLowerCase()}${id}${cls} (right edge ${Math.round(box.right)}px)`);
    }
  }
  return {scrollWidth: root.scrollWidth, clientWidth: width, culprits: culprits.slice(-8)};
}"""


def _format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:10]:
            lines.append(f"      {' '.join(map(str, node['target']))}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"        {summary[:300]}")
        if len(v["nodes"]) > 10:
            lines.append(f"      … and {len(v['nodes']) - 10} more elements")
    return "\n".join(lines)


def _set_viewport(page, size: dict) -> None:
    """Resize, then let two frames pass so resize observers and layout have run."""
    page.set_viewport_size(size)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def axe_violations(page) -> list[dict]:
    """Every axe-core violation on the page as it is now (all impacts)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.route(
            f"**{AXE_URL}",
            lambda route: route.fulfill(
                path=AXE_SCRIPT, content_type="text/javascript; charset=utf-8"
            ),
        )
        try:
            page.add_script_tag(url=AXE_URL)
        finally:
            page.unroute(f"**{AXE_URL}")
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return results["violations"]


def assert_fits_phone_width(page, *, context: str) -> None:
    """No horizontal page overflow at a 390 px-wide viewport (the page's current URL)."""
    original = page.viewport_size
    _set_viewport(page, PHONE_VIEWPORT)
    try:
        found = page.evaluate(_OVERFLOW_JS)
    finally:
        if original:
            _set_viewport(page, original)
    if found["scrollWidth"] > found["clientWidth"]:
        raise AssertionError(
            f"{context} ({page.url}): the page is {found['scrollWidth']}px wide at a "
            f"{found['clientWidth']}px viewport; sticking out: " + "; ".join(found["culprits"])
        )


@pytest.fixture
def axe():
    """check(page, *, context, phone=True): axe-core on the page as it is now.

    Fails on any violation of impact serious or critical, listing each rule's id, help and the
    offending elements (moderate and minor ones are printed, not failed). With phone=True it
    also checks the page at a 390 px-wide viewport: no horizontal overflow, and axe again on
    the phone layout (collapsed navigation). `context` names the page in the messages, e.g.
    "admin: team list". Returns every violation found.
    """

    def check(page, *, context: str, phone: bool = True) -> list[dict]:
        violations = axe_violations(page)
        if phone:
            original = page.viewport_size
            _set_viewport(page, PHONE_VIEWPORT)
            try:
                seen = {v["id"] for v in violations}
                violations += [v for v in axe_violations(page) if v["id"] not in seen]
            finally:
                if original:
                    _set_viewport(page, original)
        failing = [v for v in violations if v["impact"] in AXE_FAILING_IMPACTS]
        others = [v for v in violations if v["impact"] not in AXE_FAILING_IMPACTS]
        if others:
            print(f"axe, {context} ({page.url}), not failing:\n{_format_violations(others)}")
        if failing:  # raised, not asserted: pytest would also print the whole results list
            raise AssertionError(
                f"axe-core: {len(failing)} serious/critical violation(s) on {context} "
                f"({page.url}):\n{_format_violations(failing)}"
            )
        if phone:
            assert_fits_phone_width(page, context=context)
        return violations

    return check
