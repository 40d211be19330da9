"""The benchmark suite's machinery, on a tiny data set so that it cannot rot: a real run
(migrate, seed_demo --clients, query counts, gunicorn + locust) into a scratch document."""

import re

from django.core.management import call_command

from cms_project.benchmarks.document import read_section, write_section
from cms_project.benchmarks.management.commands.bench_suite import sibling_url
from cms_project.benchmarks.stats import percentile


def test_percentile_is_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile([7.0], 95) == 7


def test_sibling_databases_keep_the_server_and_change_the_name():
    assert (
        sibling_url("postgres://postgres@127.0.0.1:5432/fibercms_bench", "100")
        == "postgres://postgres@127.0.0.1:5432/fibercms_bench100"
    )
    assert sibling_url("sqlite:////tmp/x/big.sqlite3", "_small") == (
        "sqlite:////tmp/x/big_small.sqlite3"
    )


def test_sections_are_rewritten_in_place_and_other_sections_kept(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\n<!-- bench_invoices:begin -->\nkept\n<!-- bench_invoices:end -->\n"
    )
    write_section(doc, "pages", "first")
    write_section(doc, "pages", "second")
    text = doc.read_text()
    assert read_section(doc, "pages") == "second"
    assert "first" not in text and "kept" in text


def test_the_suite_writes_every_section_with_numbers(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n")
    data = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    call_command(
        "bench_suite",
        database_url=data,
        small_database_url=data,  # one migrated file keeps the test short
        clients=5,
        small_clients=5,
        only="dataset,queries,pages",
        seconds=1,
        repeats=1,
        users=2,
        workers=2,
        port=8797,
        write=str(doc),
    )
    machine = read_section(doc, "machine")
    assert re.search(r"Python 3\.\d+", machine) and "SQLite" in machine
    assert re.search(r"Data set: \d+ clients", machine)
    dataset = read_section(doc, "dataset")
    assert re.search(r"\| clients \| \d+ \|", dataset)
    assert re.search(r"\| issued invoices .* \| [\d.]+ s \|", dataset)
    pages = read_section(doc, "pages")
    for title in ("Floor", "Client search", "Client page", "Invoice list", "Portal home"):
        row = next(line for line in pages.splitlines() if line.startswith(f"| {title}"))
        # requests, req/s, p50, p95, p99 are numbers; no errors
        assert re.search(
            r"\| \d[\d,]* \| \d[\d,]* \| [\d.,]+ ms \| [\d.,]+ ms \| [\d.,]+ ms \|", row
        )
        assert "| 0 |" in row
    queries = read_section(doc, "queries")
    assert re.search(r"\| Client page \| \d+ \| \d+ \| yes \|", queries)
