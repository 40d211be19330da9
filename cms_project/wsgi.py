"""WSGI entry point (gunicorn cms_project.wsgi). Defaults to production settings."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms_project.settings.production")

application = get_wsgi_application()
