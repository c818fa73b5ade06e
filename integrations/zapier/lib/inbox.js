'use strict';

// Reading the inbox (GET /inbox): pending events, newest first.

const baseurl = require('./baseurl');
const { record, readJSON } = require('./events');

// LIMIT is one full page, the most GET /inbox returns. Zapier triggers at
// most 100 new items per poll anyway, so the newest 100 are all a poll can
// use; older pending events are not lost, they surface as newer ones are
// acknowledged (see docs/zapier.md, "Polling and dedup").
const LIMIT = 100;

// MAX_PAGES bounds how many requests one run makes to fill LIMIT. The API
// may answer a page with fewer events than asked while more exist (the AWS
// store bounds the work of one call across its shards), so a short page
// with a next cursor is followed, newest first still; but a poll has 30 s,
// so never for long.
const MAX_PAGES = 5;

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

// list returns up to limit pending events as records, newest first, in the
// server's order (the order Zapier's dedup relies on; the tests check it).
// It follows X-Next-Cursor rather than the Link header because Link is a
// path relative to the host, which would drop a base path such as an API
// Gateway custom domain's mapping.
async function list(z, bundle, { type = '', limit = LIMIT } = {}) {
  const base = baseurl.fromBundle(z, bundle);
  const out = [];
  const seen = new Set();
  let cursor = '';
  for (let page = 0; page < MAX_PAGES && out.length < limit; page++) {
    // The same limit on every page, as the Link header would: a cursor is
    // only promised to work with the query it was issued for.
    const params = { limit };
    if (type !== '') {
      params.type = type;
    }
    if (cursor !== '') {
      params.cursor = cursor;
    }
    const response = await z.request({ url: `${base}/inbox`, params });
    const body = readJSON(z, response);
    if (!Array.isArray(body)) {
      throw new z.errors.Error('GET /inbox did not answer with a list of events.', 'unexpected_response', response.status);
    }
    for (const e of body) {
      const r = record(e);
      if (!seen.has(r.id)) {
        seen.add(r.id);
        out.push(r);
      }
    }
    cursor = response.headers.get('x-next-cursor') || '';
    if (cursor === '') {
      break;
    }
  }
  return out.slice(0, limit);
}

module.exports = { list, limitFor, eventType, patternMatches, LIMIT, SAMPLE_LIMIT, MAX_PAGES };
