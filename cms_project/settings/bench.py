"""Benchmarks only (`make bench`): production settings, served over plain HTTP on loopback,
with the URLconf that adds the floor view. Never used by a deployment.

SECRET_KEY and ALLOWED_HOSTS come from the environment as in production; the suite sets them.
"""

from .production import *  # noqa: F403

ROOT_URLCONF = "cms_project.benchmarks.urls"
# Loopback over HTTP: no redirect to HTTPS, and cookies a plain-HTTP client sends back.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# Pages, not static files, are measured: no collectstatic (manifest) needed to render them.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Nothing leaves the machine from a benchmark.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
