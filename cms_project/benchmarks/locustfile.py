"""Locust users for `bench_suite` (run headless by cms_project.benchmarks.load, one page at a
time): each user logs in with the demo password, requests the page once to warm up, then
requests it back to back. Timing starts when every user has logged in (log-ins hash a
password and are not what is measured) and lasts BENCH_SECONDS. Every timed request is written to BENCH_OUT as JSON when the run
ends, so the suite computes exact percentiles (locust's own are rounded) and pools repeats.

Environment: BENCH_PATH, BENCH_EMAIL, BENCH_PASSWORD, BENCH_OUT, BENCH_USERS, BENCH_SECONDS.
"""

import json
import os
import re
import time

import gevent
from locust import HttpUser, events, task
from locust.exception import StopUser

PATH = os.environ.get("BENCH_PATH", "/")
EMAIL = os.environ.get("BENCH_EMAIL", "")
PASSWORD = os.environ.get("BENCH_PASSWORD", "")
OUT = os.environ.get("BENCH_OUT", "")
USERS = int(os.environ.get("BENCH_USERS", "1"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
STATE = {"ready": 0, "started": 0.0, "stopping": False}
TIMES: list[float] = []
ENDS: list[float] = []  # wall-clock end of each timed request: the rate
ERRORS: list[str] = []
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class PageUser(HttpUser):
    wait_time = staticmethod(lambda: 0)  # back to back: 8 users = 8 concurrent connections

    def on_start(self):
        login = self.client.get("/accounts/login/", name="login")
        token = CSRF.search(login.text)
        response = self.client.post(
            "/accounts/login/",
            data={
                "username": EMAIL,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="login",
        )
        if "/accounts/login" in response.url:
            ERRORS.append(f"log-in as {EMAIL} failed ({response.status_code})")
        self.client.get(PATH, name="warm-up")
        STATE["ready"] += 1
        if STATE["ready"] == USERS:
            STATE["started"] = time.time()

    @task
    def page(self):
        started = STATE["started"]
        if started and time.time() > started + SECONDS:
            if not STATE["stopping"]:
                # From its own greenlet: quit() kills every user's, this one's included.
                STATE["stopping"] = True
                gevent.spawn(self.environment.runner.quit)
            raise StopUser()
        name = "page" if started else "warm-up"  # not timed until every user is in
        with self.client.get(PATH, name=name, catch_response=True) as response:
            if response.status_code != 200 or "/accounts/login" in response.url:
                response.failure(f"{response.status_code} {response.url}")


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **kwargs):
    if name != "page":
        return
    if exception is not None:
        ERRORS.append(str(exception)[:200])
    else:
        TIMES.append(response_time)
        ENDS.append(time.time())


@events.quitting.add_listener
def _write(environment, **kwargs):
    if OUT:
        with open(OUT, "w") as f:
            span = max(ENDS) - min(ENDS) if len(ENDS) > 1 else 0
            json.dump({"times_ms": TIMES, "errors": ERRORS, "span_s": span}, f)
