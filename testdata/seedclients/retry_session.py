# The seed developer guide's retrying requests session ("Best Practices" >
# "Error Handling" > "Handle Transient Errors"), run against a real
# `triggers serve` by cmd/triggers/seedclients_test.go:
#
#   API_URL=... API_KEY=trg_... python3 retry_session.py
#
# Between the two marker lines the code is the guide's, character for
# character. It uses two names it does not define, API_URL and event_data;
# they are configuration and are set above it.
#
# On urllib3 2 (current requests) the guide's code fails as printed:
# Retry's method_whitelist argument was removed in urllib3 2.0; its name is now
# allowed_methods. The test runs this file as is, expects exactly that
# TypeError there, then runs it again with that one word replaced.
# docs/compatibility.md lists every change and the test checks it.
import os

API_URL = os.environ["API_URL"]
event_data = {"type": "user.signup", "source": "web-app", "payload": {"user_id": "12345"}}

# ---- seed code begins ----
import requests
from requests.adapters import HTTPAdapter
from requests.packages.urllib3.util.retry import Retry

def create_session():
    """Create session with automatic retries"""
    session = requests.Session()

    retry = Retry(
        total=3,                          # Retry 3 times
        backoff_factor=0.5,              # Wait 0.5, 1, 2 seconds
        status_forcelist=[500, 502, 503, 504],  # Retry on server errors
        method_whitelist=["GET", "POST"]
    )

    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)

    return session

# Use the session
session = create_session()
response = session.post(f"{API_URL}/events", json=event_data)
# ---- seed code ends: the checks below are ours, not the guide's ----

import sys


def check(ok, what):
    if not ok:
        print(f"seed client check failed: {what}", file=sys.stderr)
        sys.exit(1)


# The guide's request carries no token, and the seed answered it 401 with a
# FastAPI "detail"; so must we, with the Bearer challenge.
check(response.status_code == 401, f"unauthenticated POST /events: got {response.status_code} {response.text}, want 401")
check(
    response.headers.get("WWW-Authenticate", "").lower().startswith("bearer"),
    f"401 without a Bearer challenge: {response.headers}",
)
check(isinstance(response.json().get("detail"), str), f"401 body without a detail string: {response.text}")

# The guide mounts its retrying adapter for https:// only, and this server
# is plain http on loopback: mount the same adapter for http:// too, so the
# authenticated requests below really go through the guide's Retry.
adapter = session.get_adapter("https://")
check(adapter.max_retries.total == 3, f"retry policy: got {adapter.max_retries!r}")
session.mount("http://", adapter)
check(session.get_adapter(API_URL) is adapter, "the retrying adapter does not serve API_URL")

token = session.post(f"{API_URL}/token", data={"username": "api", "password": os.environ["API_KEY"]})
check(token.status_code == 200, f"POST /token: got {token.status_code} {token.text}")
auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
created = session.post(f"{API_URL}/events", json=event_data, headers=auth)
check(created.status_code == 201, f"POST /events: got {created.status_code} {created.text}, want 201")
inbox = session.get(f"{API_URL}/inbox", headers=auth)
check(inbox.status_code == 200, f"GET /inbox: got {inbox.status_code} {inbox.text}")
check(inbox.json()[0]["id"] == created.json()["id"], f"inbox: got {inbox.text}, want {created.json()['id']} first")
print("seed client checks passed")
