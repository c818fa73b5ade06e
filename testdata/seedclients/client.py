# The seed developer guide's Python client ("Code Examples" > "Python
# (requests)"), run against a real `triggers serve` by
# cmd/triggers/seedclients_test.go:
#
#   API_URL=http://127.0.0.1:8080 API_KEY=trg_... python3 client.py
#
# Between the two marker lines the code is the guide's, character for
# character, except for its configuration: the base URL and the API key come
# from API_URL and API_KEY instead of the guide's placeholder strings (hence
# the `import os` above the seed code). docs/compatibility.md lists every
# change and the test checks that list against the guide.
import os

# ---- seed code begins ----
import requests
from datetime import datetime

class ZapierTriggersClient:
    def __init__(self, api_url, api_key):
        self.api_url = api_url
        self.api_key = api_key
        self.token = None

    def authenticate(self):
        """Get JWT token"""
        response = requests.post(
            f"{self.api_url}/token",
            data={"username": "api", "password": self.api_key}
        )
        response.raise_for_status()
        self.token = response.json()["access_token"]
        return self.token

    def create_event(self, event_type, source, payload):
        """Create a new event"""
        if not self.token:
            self.authenticate()

        response = requests.post(
            f"{self.api_url}/events",
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json"
            },
            json={
                "type": event_type,
                "source": source,
                "payload": payload
            }
        )
        response.raise_for_status()
        return response.json()

    def get_inbox(self):
        """Get pending events"""
        if not self.token:
            self.authenticate()

        response = requests.get(
            f"{self.api_url}/inbox",
            headers={"Authorization": f"Bearer {self.token}"}
        )
        response.raise_for_status()
        return response.json()

    def acknowledge_event(self, event_id):
        """Acknowledge event delivery"""
        if not self.token:
            self.authenticate()

        response = requests.post(
            f"{self.api_url}/inbox/{event_id}/ack",
            headers={"Authorization": f"Bearer {self.token}"}
        )
        response.raise_for_status()
        return response.json()

# Example usage
client = ZapierTriggersClient(
    api_url=os.environ["API_URL"],
    api_key=os.environ["API_KEY"]
)

# Send event
result = client.create_event(
    event_type="user.signup",
    source="web-app",
    payload={
        "user_id": "12345",
        "email": "user@example.com",
        "plan": "premium"
    }
)
print(f"Event created: {result['id']}")

# Get inbox
events = client.get_inbox()
print(f"Pending events: {len(events)}")

# Acknowledge first event
if events:
    ack = client.acknowledge_event(events[0]["id"])
    print(f"Acknowledged: {ack['id']}")
# ---- seed code ends: the checks below are ours, not the guide's ----

import sys


def check(ok, what):
    if not ok:
        print(f"seed client check failed: {what}", file=sys.stderr)
        sys.exit(1)


check(result["status"] == "pending", f"create_event status: got {result!r}, want status 'pending'")
mine = [e for e in events if e["id"] == result["id"]]
check(len(mine) == 1, f"get_inbox: created event {result['id']} not in {events!r}")
check(
    mine[0]["type"] == "user.signup" and mine[0]["source"] == "web-app"
    and mine[0]["payload"] == {"user_id": "12345", "email": "user@example.com", "plan": "premium"}
    and mine[0]["status"] == "pending",
    f"get_inbox: got {mine[0]!r}, want the event as sent, pending",
)
# Newest first: the event the example just created is the one it acknowledged.
check(ack["id"] == result["id"], f"acknowledge_event: acknowledged {ack['id']}, want the newest event {result['id']}")
check(ack["status"] == "delivered", f"acknowledge_event: got {ack!r}, want status 'delivered'")
after = client.get_inbox()
check(all(e["id"] != ack["id"] for e in after), f"acknowledged event {ack['id']} still in the inbox {after!r}")
print("seed client checks passed")
