"""Local development: the embedded default (SQLite, eager tasks, console email, DEBUG on)."""

from .base import *  # noqa: F403
from .base import env, env_bool

DEBUG = env_bool("DEBUG", True)
# A fixed key is fine for a laptop; production.py refuses to start without a real one.
SECRET_KEY = env("SECRET_KEY", default="django-insecure-local-development-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
