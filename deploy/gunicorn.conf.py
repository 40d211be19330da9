"""Gunicorn settings for Fiber CMS: gunicorn -c deploy/gunicorn.conf.py cms_project.wsgi

Every value can be changed from the environment, so the systemd unit, `make audit` and a
container all use this one file (docs/deployment.md).
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None


# Loopback by default: nginx (or the load balancer's agent) in front terminates TLS. Bind to a
# private address, never a public one, when the proxy is on another machine.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: every request is short, database-bound Python (PDFs render in Celery workers).
# 2 x cores + 1 is gunicorn's rule of thumb; WEB_CONCURRENCY overrides it (2 per core is
# enough when PostgreSQL shares the machine). Each worker keeps one persistent database
# connection (CONN_MAX_AGE), so workers x web machines must stay below PostgreSQL's
# max_connections minus what the Celery workers use.
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
threads = _int("GUNICORN_THREADS", 1)

# A request still running after 30 s is a bug or a stuck query: kill the worker, log it.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)  # let requests finish on restart
keepalive = 5  # the proxy reuses connections to gunicorn
# Recycle workers now and then, so slow memory growth (a big report, a leak in a library)
# cannot accumulate; the jitter keeps them from all restarting at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10

# Heartbeat files in memory: a slow disk must not make the master think a worker hung.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Logs to stdout/stderr (journald under systemd). The access log ends with the duration in
# milliseconds; "-" is stdout, a path writes a file, empty turns it off.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'

# Which peers may tell gunicorn the original scheme (X-Forwarded-Proto): the proxy's address.
# Gunicorn then reports https to Django for those requests; Django's own
# SECURE_PROXY_SSL_HEADER=true does the same at the application level.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Gunicorn 25+ opens a control socket at one fixed per-user path by default; two instances on a
# machine would fight over it. Off unless a path is given (then `gunicornc -s PATH` works).
control_socket_path = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
if control_socket_path:
    control_socket = control_socket_path
else:
    control_socket_disable = True

proc_name = os.environ.get("GUNICORN_PROC_NAME", "fibercms")
