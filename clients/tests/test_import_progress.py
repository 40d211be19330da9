"""Large CSV imports run in a background task with a progress bar; small ones stay in the
request. Eager here (no broker), as `make run` does; test_import_worker.py uses a real worker."""

import pytest
from django.urls import reverse

from clients import importing
from clients.models import Client, ClientImport, ServiceLocation

from .test_csv import GOOD, _csv, _upload

pytestmark = pytest.mark.django_db


def _rows(count: int, **changes) -> list[dict]:
    return [
        {**GOOD, "name": f"Client {n}", "location_street": f"{n} Oak Street", **changes}
        for n in range(count)
    ]


@pytest.fixture
def background(monkeypatch):
    """Any file of more than two rows counts as large."""
    monkeypatch.setattr(importing, "BACKGROUND_ROWS", 2)


def test_a_small_file_is_checked_and_imported_within_the_request(login, staff_user):
    browser = login(staff_user)
    _upload(browser, _csv(*_rows(2)))
    record = ClientImport.objects.get()
    assert record.status == "valid"  # no task involved
    browser.post(reverse("clients:import_commit", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == "imported" and Client.objects.count() == 2


def test_a_large_file_is_checked_in_the_background_after_the_upload_commits(
    login, staff_user, background, django_capture_on_commit_callbacks
):
    browser = login(staff_user)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = _upload(browser, _csv(*_rows(3)))
    record = ClientImport.objects.get()
    assert (record.status, record.row_count, len(queued)) == ("checking", 3, 1)
    page = browser.get(response["Location"]).content.decode()
    assert "<progress" in page and 'data-import-status-url="' in page
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert ">Refresh</a>" in page  # and a link, for browsers that ignore the refresh
    assert "Import 3 clients" not in page
    status = browser.get(reverse("clients:import_status", args=[record.pk])).json()
    assert status == {
        "status": "checking",
        "status_label": "Checking",
        "done": False,
        "percent": 0,
        "note": "Waiting for a worker…",
    }

    queued[0]()  # the task, eagerly
    record.refresh_from_db()
    assert (record.status, record.client_count, record.progress) == ("valid", 3, 100)
    assert browser.get(reverse("clients:import_status", args=[record.pk])).json()["done"]
    assert "Import 3 clients" in browser.get(response["Location"]).content.decode()
    assert not Client.objects.exists()


def test_a_large_import_runs_in_the_background_and_imports_everything(
    login, staff_user, background, django_capture_on_commit_callbacks
):
    browser = login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(browser, _csv(*_rows(5)))
    record = ClientImport.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = browser.post(reverse("clients:import_commit", args=[record.pk]), follow=True)
    assert "The import has started" in response.content.decode()
    record.refresh_from_db()
    assert record.status == "importing" and not Client.objects.exists()
    # Pressing Import again queues nothing more.
    with django_capture_on_commit_callbacks(execute=False) as again:
        browser.post(reverse("clients:import_commit", args=[record.pk]))
    assert len(queued) == 1 and not again

    queued[0]()
    record.refresh_from_db()
    assert (record.status, record.client_count, record.progress) == ("imported", 5, 100)
    assert Client.objects.count() == 5 and ServiceLocation.objects.count() == 5
    page = browser.get(reverse("clients:import_preview", args=[record.pk])).content.decode()
    assert "Imported on" in page and "<progress" not in page
    queued[0]()  # the same task delivered twice imports once
    assert Client.objects.count() == 5


def test_a_bad_row_in_a_large_file_is_listed_and_nothing_can_be_imported(
    login, staff_user, background, django_capture_on_commit_callbacks
):
    browser = login(staff_user)
    rows = _rows(4)
    rows[2]["email"] = "not-an-email"
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(browser, _csv(*rows))
    record = ClientImport.objects.get()
    assert record.status == "invalid"
    assert record.errors == [
        {"row": 4, "field": "email", "message": "“not-an-email” is not a valid email address."}
    ]
    page = browser.get(response["Location"]).content.decode()
    assert "not-an-email" in page and "Import 4 clients" not in page
    browser.post(reverse("clients:import_commit", args=[record.pk]))
    assert not Client.objects.exists()


def test_an_account_number_taken_while_queued_stops_the_whole_background_import(
    login, staff_user, background, django_capture_on_commit_callbacks
):
    browser = login(staff_user)
    rows = _rows(3)
    rows[1]["account_number"] = "C-777777"
    with django_capture_on_commit_callbacks(execute=True):
        _upload(browser, _csv(*rows))
    record = ClientImport.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        browser.post(reverse("clients:import_commit", args=[record.pk]))
    Client.objects.create(
        account_number="C-777777", name="Got there first", signup_date="2026-01-01"
    )
    queued[0]()
    record.refresh_from_db()
    assert record.status == "invalid" and record.errors[0]["row"] == 3
    assert list(Client.objects.values_list("name", flat=True)) == ["Got there first"]


def test_a_crash_in_the_task_is_shown_on_the_page_and_imports_nothing(
    login, staff_user, background, django_capture_on_commit_callbacks, monkeypatch
):
    browser = login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(browser, _csv(*_rows(3)))
    record = ClientImport.objects.get()

    def explode(**kwargs):
        raise MemoryError("simulated")

    monkeypatch.setattr(importing, "import_plan", explode)
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(reverse("clients:import_commit", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == "invalid" and not Client.objects.exists()
    assert record.errors[0]["message"] == (
        "The file could not be processed (MemoryError); nothing was imported."
    )


def test_progress_is_reported_while_checking_and_saving(monkeypatch):
    seen = []
    monkeypatch.setattr(importing, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(importing, "BATCH", 2)
    text = _csv(*_rows(5))
    plan = importing.parse_clients_csv(text, progress=lambda done, total: seen.append(done))
    assert seen == [2, 4, 6]
    saved = []
    importing.import_plan(plan=plan, progress=lambda done, total: saved.append((done, total)))
    assert saved == [(2, 5), (4, 5), (5, 5)]


def test_the_progress_reporter_maps_each_step_onto_its_part_of_the_bar(monkeypatch):
    saved = []
    monkeypatch.setattr(importing, "save_progress", lambda **kwargs: saved.append(kwargs))
    importing._reporter(7, "Saved client", 30, 95)(1000, 2000)
    assert saved == [{"import_id": 7, "percent": 62, "note": "Saved client 1,000 of 2,000"}]


@pytest.mark.parametrize(
    ("text", "rows"), [("name\n", 0), ("name", 0), ("name\na\nb\n", 2), ("name\na\nb", 2)]
)
def test_data_rows_counts_the_lines_after_the_header(text, rows):
    assert importing.data_rows(text) == rows
