# The seed developer guide's scheduled producer ("Integration Patterns" >
# "Pattern 2: Scheduled Event Generation", a cron job), run against a real
# `triggers serve` by cmd/triggers/seedclients_test.go:
#
#   API_URL=http://127.0.0.1:8080 API_KEY=trg_... python3 daily_report.py
#
# Between the two marker lines the code is the guide's, character for
# character, except for its configuration: the base URL and the API key come
# from API_URL and API_KEY instead of the guide's placeholder strings.
# docs/compatibility.md lists every change and the test checks it.
import os

# ---- seed code begins ----
#!/usr/bin/env python3
"""
Daily report generator
Run via cron: 0 9 * * * /path/to/daily_report.py
"""

import requests
from datetime import datetime, timedelta

API_URL = os.environ["API_URL"]
API_KEY = os.environ["API_KEY"]

def get_token():
    response = requests.post(
        f"{API_URL}/token",
        data={"username": "api", "password": API_KEY}
    )
    return response.json()["access_token"]

def generate_report():
    """Generate daily report data"""
    # Your report generation logic
    return {
        "date": (datetime.now() - timedelta(days=1)).strftime("%Y-%m-%d"),
        "total_sales": 12543.99,
        "total_orders": 87,
        "new_customers": 23
    }

def send_report_event(token, report_data):
    response = requests.post(
        f"{API_URL}/events",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "type": "report.daily",
            "source": "reporting-system",
            "payload": report_data
        }
    )
    return response.json()

if __name__ == "__main__":
    token = get_token()
    report = generate_report()
    result = send_report_event(token, report)
    print(f"Report event created: {result['id']}")
# ---- seed code ends: the checks below are ours, not the guide's ----

import sys


def check(ok, what):
    if not ok:
        print(f"seed client check failed: {what}", file=sys.stderr)
        sys.exit(1)


check(result.get("status") == "pending", f"send_report_event: got {result!r}, want status 'pending'")
event = requests.get(f"{API_URL}/events/{result['id']}", headers={"Authorization": f"Bearer {token}"})
check(event.status_code == 200, f"GET /events/{result['id']}: got {event.status_code} {event.text}")
check(
    event.json()["type"] == "report.daily" and event.json()["source"] == "reporting-system"
    and event.json()["payload"] == report,
    f"stored event: got {event.text}, want the report as sent",
)
print("seed client checks passed")
