'use strict';

// What the triggers, actions and search return for an event. One shape for
// all of them, so a Zap can switch between the polling and the instant
// trigger, or feed Find Event's output where New Event's was, without
// remapping fields.

const { parseLossless, toPlain, toText, isObject } = require('./json');

// record turns an event as the API returns it (parsed losslessly) into
// Zapier output: the event's own members at the top level, payload as an
// object (Zapier shows its members as "Payload Order Id" and so on) and the
// same payload as JSON text with every number exact. Members the API did not
// send (a pushed event has no status or updated_at) are left out rather than
// invented.
function record(e) {
  const payload = isObject(e.payload) ? e.payload : {};
  const out = {
    id: String(e.id),
    type: e.type,
    source: e.source,
  };
  if (e.status !== undefined) {
    out.status = e.status;
  }
  out.created_at = e.created_at;
  if (e.updated_at !== undefined) {
    out.updated_at = e.updated_at;
  }
  out.payload = toPlain(payload);
  out.payload_json = toText(payload);
  return out;
}

// readJSON parses a successful response's body losslessly. A body that is
// not JSON means api_url points at something other than Triggers (a login
// page, a proxy's error page), which deserves a message saying so.
function readJSON(z, response) {
  try {
    return parseLossless(response.content);
  } catch (_e) {
    const type = response.headers.get('content-type') || 'no content type';
    throw new z.errors.Error(
      `Expected JSON from ${describe(response)} but got ${type} (HTTP ${response.status}). ` +
        'Check that the API URL of this connection is the base URL of your Triggers deployment.',
      'unexpected_response',
      response.status,
    );
  }
}

// describe names a request as "GET /inbox on host" for messages, without
// its query string (which may carry user data) or any credentials.
function describe(response) {
  const req = response.request || {};
  try {
    const u = new URL(req.url);
    return `${(req.method || 'GET').toUpperCase()} ${u.pathname} on ${u.host}`;
  } catch (_e) {
    return 'the request';
  }
}

// FIELDS are the outputFields of every operation that returns an event.
const FIELDS = [
  { key: 'id', label: 'Event ID', type: 'string', primary: true },
  { key: 'type', label: 'Event Type', type: 'string' },
  { key: 'source', label: 'Source', type: 'string' },
  { key: 'status', label: 'Status', type: 'string' },
  { key: 'created_at', label: 'Created At', type: 'datetime' },
  { key: 'updated_at', label: 'Updated At', type: 'datetime' },
  { key: 'payload_json', label: 'Payload (JSON)', type: 'string' },
];

// HOOK_FIELDS leave out what a pushed event does not carry.
const HOOK_FIELDS = FIELDS.filter((f) => f.key !== 'status' && f.key !== 'updated_at');

// SAMPLE is a realistic event record for samples.
const SAMPLE = {
  id: '019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61',
  type: 'order.created',
  source: 'shop',
  status: 'pending',
  created_at: '2026-11-28T10:00:00Z',
  updated_at: '2026-11-28T10:00:00Z',
  payload: { order_id: 1042, total: '19.90', customer: { email: 'ada@example.com' } },
  payload_json: '{"order_id":1042,"total":"19.90","customer":{"email":"ada@example.com"}}',
};

const HOOK_SAMPLE = Object.fromEntries(
  Object.entries(SAMPLE).filter(([k]) => k !== 'status' && k !== 'updated_at'),
);

module.exports = { record, readJSON, describe, FIELDS, HOOK_FIELDS, SAMPLE, HOOK_SAMPLE };

// pathID makes a user-supplied event id safe to put in a URL path: trimmed
// (a mapped value often ends in a newline) and percent-encoded. It returns
// '' for ids that cannot exist and would otherwise change the path itself
// ("", ".", ".."), which callers treat as not found.
function pathID(raw) {
  const id = typeof raw === 'string' ? raw.trim() : raw === undefined || raw === null ? '' : String(raw).trim();
  if (id === '' || id === '.' || id === '..') {
    return '';
  }
  return encodeURIComponent(id);
}

module.exports.pathID = pathID;
