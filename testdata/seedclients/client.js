// The seed developer guide's Node.js client ("Code Examples" > "Node.js
// (axios)"), run against a real `triggers serve` by
// cmd/triggers/seedclients_test.go, with the axios pinned in package.json:
//
//   npm ci && API_URL=http://127.0.0.1:8080 API_KEY=trg_... node client.js
//
// Between the two marker lines the code is the guide's, character for
// character, except for its configuration: the base URL and the API key come
// from API_URL and API_KEY instead of the guide's placeholder strings.
// docs/compatibility.md lists every change and the test checks it.

// ---- seed code begins ----
const axios = require('axios');

class ZapierTriggersClient {
  constructor(apiUrl, apiKey) {
    this.apiUrl = apiUrl;
    this.apiKey = apiKey;
    this.token = null;
  }

  async authenticate() {
    const response = await axios.post(
      `${this.apiUrl}/token`,
      new URLSearchParams({
        username: 'api',
        password: this.apiKey
      })
    );
    this.token = response.data.access_token;
    return this.token;
  }

  async createEvent(eventType, source, payload) {
    if (!this.token) await this.authenticate();

    const response = await axios.post(
      `${this.apiUrl}/events`,
      {
        type: eventType,
        source: source,
        payload: payload
      },
      {
        headers: {
          'Authorization': `Bearer ${this.token}`,
          'Content-Type': 'application/json'
        }
      }
    );
    return response.data;
  }

  async getInbox() {
    if (!this.token) await this.authenticate();

    const response = await axios.get(
      `${this.apiUrl}/inbox`,
      {
        headers: {
          'Authorization': `Bearer ${this.token}`
        }
      }
    );
    return response.data;
  }

  async acknowledgeEvent(eventId) {
    if (!this.token) await this.authenticate();

    const response = await axios.post(
      `${this.apiUrl}/inbox/${eventId}/ack`,
      {},
      {
        headers: {
          'Authorization': `Bearer ${this.token}`
        }
      }
    );
    return response.data;
  }
}

// Example usage
(async () => {
  const client = new ZapierTriggersClient(
    process.env.API_URL,
    process.env.API_KEY
  );

  // Send event
  const result = await client.createEvent(
    'user.signup',
    'web-app',
    {
      user_id: '12345',
      email: 'user@example.com',
      plan: 'premium'
    }
  );
  console.log(`Event created: ${result.id}`);

  // Get inbox
  const events = await client.getInbox();
  console.log(`Pending events: ${events.length}`);

  // Acknowledge first event
  if (events.length > 0) {
    const ack = await client.acknowledgeEvent(events[0].id);
    console.log(`Acknowledged: ${ack.id}`);
  }
})();
// ---- seed code ends: the checks below are ours, not the guide's ----

// The guide's example runs in an async function whose locals are out of
// reach, and by the time this line runs it is already waiting for its first
// request (POST /token). So the checks read what it prints, and when it has
// finished (beforeExit: nothing left to do) they ask the server with the
// guide's own class. A failed request in the example is an unhandled
// rejection, which ends node with exit code 1 before that.
const printed = [];
const print = console.log;
console.log = (...args) => {
  printed.push(args.join(' '));
  print(...args);
};

process.once('beforeExit', async () => {
  const fail = (what) => {
    console.error(`seed client check failed: ${what}`);
    process.exitCode = 1;
  };
  const after = (prefix) => {
    const line = printed.find((l) => l.startsWith(prefix));
    return line === undefined ? undefined : line.slice(prefix.length);
  };
  const created = after('Event created: ');
  const pending = after('Pending events: ');
  const acked = after('Acknowledged: ');
  if (!created || created === 'undefined') return fail(`createEvent printed no id: ${JSON.stringify(printed)}`);
  if (!(Number(pending) >= 1)) return fail(`getInbox: got ${pending} pending events, want at least 1`);
  // Newest first: the event the example just created is the one it acknowledged.
  if (acked !== created) return fail(`acknowledgeEvent: acknowledged ${acked}, want the newest event ${created}`);

  const checker = new ZapierTriggersClient(process.env.API_URL, process.env.API_KEY);
  const inbox = await checker.getInbox();
  if (!Array.isArray(inbox)) return fail(`getInbox: got ${JSON.stringify(inbox)}, want an array`);
  if (inbox.some((e) => e.id === created)) return fail(`acknowledged event ${created} still in the inbox`);
  const again = await checker.acknowledgeEvent(created);
  if (again.id !== created || again.status !== 'delivered') {
    return fail(`acknowledgeEvent again: got ${JSON.stringify(again)}, want ${created} delivered`);
  }
  print('seed client checks passed');
});
