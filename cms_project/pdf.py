"""WeasyPrint, safely: PDFs may only load the project's own static files.

Invoices and statements are rendered from HTML that contains what users typed (names,
addresses, notes). WeasyPrint would fetch any URL it finds (an <img src="http://…"> or a CSS
url()), letting a crafted name make the server call out to the network (SSRF) or read files
(`file:///etc/passwd`). Pass `url_fetcher=safe_url_fetcher` to every `weasyprint.HTML(...)`:

    HTML(string=html, base_url=settings.STATIC_URL, url_fetcher=safe_url_fetcher).write_pdf()

It serves `data:` URLs, files under the static folders (STATICFILES_DIRS, the apps' static
folders, STATIC_ROOT) given as `file://` paths, and URLs whose path starts with STATIC_URL (on
any host — nothing is fetched: the file is read from disk). Everything else is refused, which
WeasyPrint logs and skips (the PDF renders without that resource).
"""

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import Request, url2pathname

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from weasyprint.urls import URLFetcher, URLFetcherResponse


class UnsafeURL(ValueError):
    """A URL the PDF renderer may not load."""


def static_roots() -> list[Path]:
    roots = [Path(settings.STATIC_ROOT)] if settings.STATIC_ROOT else []
    for finder in finders.get_finders():
        for storage in getattr(finder, "storages", {}).values():
            location = getattr(storage, "location", None)
            if location:
                roots.append(Path(location))
    return [root.resolve() for root in roots]


def _inside_static(path: Path) -> Path:
    resolved = path.resolve()  # follows "..", and symlinks that would lead elsewhere
    for root in static_roots():
        if resolved.is_relative_to(root) and resolved.is_file():
            return resolved
    raise UnsafeURL(f"not a static file of this project: {path}")


def _static_url_prefix() -> str:
    return urlsplit(settings.STATIC_URL).path  # "/static/"


def _file_response(url: str, path: Path) -> URLFetcherResponse:
    mime, encoding = mimetypes.guess_type(path.name)
    headers = {"Content-Type": mime or "application/octet-stream"}
    return URLFetcherResponse(url, path.read_bytes(), headers)


class SafeURLFetcher(URLFetcher):
    """WeasyPrint's fetcher, reduced to data: URLs and our own static files."""

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            from urllib.request import DataHandler

            response = DataHandler().data_open(Request(url))
            return URLFetcherResponse(url, response.read(), dict(response.headers))
        if scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise UnsafeURL(f"remote file URL refused: {url}")
            return _file_response(url, _inside_static(Path(url2pathname(parts.path))))
        if scheme in ("http", "https"):
            prefix = _static_url_prefix()
            path = unquote(parts.path)
            if path.startswith(prefix):
                relative = path[len(prefix) :]
                try:
                    found = finders.find(relative) if relative else None
                except SuspiciousFileOperation as exc:  # "../" out of a static folder
                    raise UnsafeURL(f"not a static file of this project: {url}") from exc
                if not found and settings.STATIC_ROOT:
                    candidate = Path(settings.STATIC_ROOT) / relative
                    found = str(candidate) if candidate.is_file() else None
                if found:
                    return _file_response(url, _inside_static(Path(found)))
            raise UnsafeURL(f"network URL refused: {url}")
        raise UnsafeURL(f"URL scheme refused: {url}")


# Use as `url_fetcher=safe_url_fetcher`; callable as safe_url_fetcher(url).
safe_url_fetcher = SafeURLFetcher(allowed_protocols=("data", "file", "http", "https"))
