# The seed developer guide's APIClient ("Best Practices" > "Error Handling" >
# "Handle Authentication Errors": a cached token, refreshed an hour before it
# expires and again on a 401), run against a real `triggers serve` by
# cmd/triggers/seedclients_test.go:
#
#   API_URL=... API_KEY=trg_... EXPIRED_TOKEN=<a token of that server, past
#   its expiry> python3 apiclient.py
#
# Between the two marker lines the code is the guide's, character for
# character. The guide prints the class without imports (its neighbouring
# examples import requests), so `import requests` comes first; the URL and
# key are the constructor's arguments, passed by the checks below.
# docs/compatibility.md lists every change and the test checks it.
import os
import requests

# ---- seed code begins ----
class APIClient:
    def __init__(self, api_url, api_key):
        self.api_url = api_url
        self.api_key = api_key
        self.token = None
        self.token_expires = 0

    def get_token(self):
        """Get or refresh JWT token"""
        import time

        # Refresh if expired or about to expire (with 1-hour buffer)
        if time.time() >= (self.token_expires - 3600):
            response = requests.post(
                f"{self.api_url}/token",
                data={"username": "api", "password": self.api_key}
            )
            response.raise_for_status()

            self.token = response.json()["access_token"]
            self.token_expires = time.time() + (24 * 3600)  # 24 hours

        return self.token

    def send_event(self, event_type, source, payload):
        """Send event with automatic token refresh"""
        token = self.get_token()

        response = requests.post(
            f"{self.api_url}/events",
            headers={"Authorization": f"Bearer {token}"},
            json={"type": event_type, "source": source, "payload": payload}
        )

        # Handle 401 (token might have expired between refresh check)
        if response.status_code == 401:
            self.token_expires = 0  # Force refresh
            token = self.get_token()

            # Retry with new token
            response = requests.post(
                f"{self.api_url}/events",
                headers={"Authorization": f"Bearer {token}"},
                json={"type": event_type, "source": source, "payload": payload}
            )

        response.raise_for_status()
        return response.json()
# ---- seed code ends: the checks below are ours, not the guide's ----

import sys

API_URL = os.environ["API_URL"]


def check(ok, what):
    if not ok:
        print(f"seed client check failed: {what}", file=sys.stderr)
        sys.exit(1)


# Record what the client sends (path, status) without changing what it
# does: the class looks requests.post up at each call.
calls = []
_post = requests.post


def recording_post(url, *args, **kwargs):
    response = _post(url, *args, **kwargs)
    calls.append((url.removeprefix(API_URL), response.status_code))
    return response


requests.post = recording_post

client = APIClient(API_URL, os.environ["API_KEY"])
sent = [client.send_event("user.signup", "web-app", {"user_id": "12345"})]
check(calls == [("/token", 200), ("/events", 201)], f"first send_event: got {calls}, want a token then the event")
check(sent[0]["status"] == "pending", f"send_event: got {sent[0]!r}, want status 'pending'")

# A second event reuses the cached token.
calls.clear()
sent.append(client.send_event("user.signup", "web-app", {"user_id": "12346"}))
check(calls == [("/events", 201)], f"second send_event: got {calls}, want the cached token reused")

# The cached token stops being accepted while the client still believes it
# valid (its own clock says 24 h): a real token of this server, past its
# expiry. The server must answer 401, so the seed's branch refreshes and
# retries.
calls.clear()
client.token = os.environ["EXPIRED_TOKEN"]
sent.append(client.send_event("user.signup", "web-app", {"user_id": "12347"}))
check(
    calls == [("/events", 401), ("/token", 200), ("/events", 201)],
    f"send_event with an expired token: got {calls}, want 401, a new token, then 201",
)
check(client.token != os.environ["EXPIRED_TOKEN"], "the client kept the expired token")

inbox = requests.get(f"{API_URL}/inbox", headers={"Authorization": f"Bearer {client.token}"})
check(inbox.status_code == 200, f"GET /inbox: got {inbox.status_code} {inbox.text}")
ids = [e["id"] for e in inbox.json()]
check(ids[:3] == [s["id"] for s in reversed(sent)], f"inbox: got {ids}, want the three sent events newest first")
print(f"sent {len(sent)} events; refreshed the token after a 401")
print("seed client checks passed")
