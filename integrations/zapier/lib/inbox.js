'use strict';

// Reading the inbox (GET /inbox): pending events, newest first.

const baseurl = require('./baseurl');
const { record, readJSON } = require('./events');

// LIMIT is one full page, the most GET /inbox returns. Zapier triggers at
// most 100 new items per poll anyway, so one page is all a poll can use;
// following the Link header to older pages would only cost time inside the
// 30 s poll budget. Older pending events are not lost: they surface as newer
// ones are acknowledged (see docs/zapier.md, "Polling and dedup").
const LIMIT = 100;

// SAMPLE_LIMIT is what the Zap editor asks for when it loads samples: it
// shows three, and fetching more only slows the editor down.
const SAMPLE_LIMIT = 3;

// limitFor picks the page size for this run.
function limitFor(bundle) {
  return bundle.meta && bundle.meta.isLoadingSample ? SAMPLE_LIMIT : LIMIT;
}

// eventType is the trimmed event type filter, '' for none.
function eventType(bundle) {
  const v = (bundle.inputData || {}).event_type;
  return typeof v === 'string' ? v.trim() : '';
}

// patternMatches applies an instant trigger's filter: an exact type, or a
// prefix ending in "*" (order.* matches order.created and order.item.added),
// as the subscriptions API defines it.
function patternMatches(pattern, type) {
  return pattern.endsWith('*') ? type.startsWith(pattern.slice(0, -1)) : pattern === type;
}

// list returns pending events as records, newest first, in the server's
// order (the server's order is the contract Zapier's dedup relies on, and
// the tests check it).
async function list(z, bundle, { type = '', limit = LIMIT } = {}) {
  const base = baseurl.fromBundle(z, bundle);
  const params = { limit };
  if (type !== '') {
    params.type = type;
  }
  const response = await z.request({ url: `${base}/inbox`, params });
  const body = readJSON(z, response);
  if (!Array.isArray(body)) {
    throw new z.errors.Error('GET /inbox did not answer with a list of events.', 'unexpected_response', response.status);
  }
  return body.map(record);
}

module.exports = { list, limitFor, eventType, patternMatches, LIMIT, SAMPLE_LIMIT };
