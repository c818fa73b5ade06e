# The seed developer guide's polling consumer ("Best Practices" > "Polling
# Strategies" > "Custom Polling"), run against a real `triggers serve` by
# cmd/triggers/seedclients_test.go:
#
#   API_URL=... API_TOKEN=<a bearer token from POST /token> python3 polling.py
#
# (against a server whose inbox is empty: the guide's loop acknowledges
# every pending event, and the checks expect exactly the three they send)
#
# Between the two marker lines the code is the guide's, character for
# character, except for its configuration: the base URL and the token come
# from API_URL and API_TOKEN instead of the guide's placeholder strings.
# docs/compatibility.md lists every change and the test checks it.
import os

# ---- seed code begins ----
import time
import requests

API_URL = os.environ["API_URL"]
TOKEN = os.environ["API_TOKEN"]

def poll_inbox():
    """Poll inbox every 10 seconds"""
    while True:
        # Fetch pending events
        response = requests.get(
            f"{API_URL}/inbox",
            headers={"Authorization": f"Bearer {TOKEN}"}
        )

        events = response.json()

        # Process each event
        for event in events:
            process_event(event)

            # Acknowledge after successful processing
            ack_response = requests.post(
                f"{API_URL}/inbox/{event['id']}/ack",
                headers={"Authorization": f"Bearer {TOKEN}"}
            )

            if ack_response.status_code == 200:
                print(f"Acknowledged event {event['id']}")

        # Wait before next poll
        time.sleep(10)

def process_event(event):
    """Process a single event"""
    print(f"Processing {event['type']}: {event['id']}")
    # Your processing logic here
# ---- seed code ends: the checks below are ours, not the guide's ----

import contextlib
import io
import sys


def check(ok, what):
    if not ok:
        print(f"seed client check failed: {what}", file=sys.stderr)
        sys.exit(1)


auth = {"Authorization": f"Bearer {TOKEN}"}
created = []
for n in range(3):
    r = requests.post(f"{API_URL}/events", headers=auth, json={"type": "order.placed", "source": "shop", "payload": {"n": n}})
    check(r.status_code == 201, f"POST /events: got {r.status_code} {r.text}")
    created.append(r.json()["id"])


# poll_inbox loops forever; end it at its first sleep, after one full round.
class EndOfRound(Exception):
    pass


slept = []


def end_round(seconds):
    slept.append(seconds)
    raise EndOfRound


time.sleep = end_round
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    try:
        poll_inbox()
    except EndOfRound:
        pass
print(printed.getvalue(), end="")

want = []
for id in reversed(created):  # the inbox is newest first
    want += [f"Processing order.placed: {id}", f"Acknowledged event {id}"]
check(printed.getvalue().splitlines() == want, f"poll_inbox printed {printed.getvalue()!r}, want {want!r}")
check(slept == [10], f"poll_inbox slept {slept}, want [10]")
left = requests.get(f"{API_URL}/inbox", headers=auth)
check(left.status_code == 200 and left.json() == [], f"inbox after one round: got {left.status_code} {left.text}, want []")
print("seed client checks passed")
