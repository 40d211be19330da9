"""Sections of docs/benchmarks.md, each between its own markers, rewritten in place: the
sections other commands write (bench_invoices, make audit, bench_import) are never touched."""

from pathlib import Path

HEADER = "# Benchmarks\n\nFigures measured on this machine; each section says how.\n"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench_suite:{name}:begin -->", f"<!-- bench_suite:{name}:end -->"


def write_section(path: Path, name: str, body: str, *, before: str = "") -> None:
    """Replace the section `name`, or add it (before the marker `before` if given, else at
    the end)."""
    begin, end = markers(name)
    text = path.read_text() if path.exists() else HEADER
    block = f"{begin}\n{body.strip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    elif before and before in text:
        head, rest = text.split(before, 1)
        text = head + block + "\n\n" + before + rest
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


def read_section(path: Path, name: str) -> str:
    begin, end = markers(name)
    text = path.read_text() if path.exists() else ""
    if begin not in text or end not in text:
        return ""
    return text.split(begin, 1)[1].split(end, 1)[0].strip()
