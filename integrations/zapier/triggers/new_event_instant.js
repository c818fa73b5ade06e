'use strict';

// "New Event (Instant)": a REST hook trigger. Turning a Zap on subscribes
// Zapier's per-Zap URL (bundle.targetUrl) with POST /subscriptions; Triggers
// then POSTs each matching event there, signed per Standard Webhooks, and
// Zapier runs perform on it. Turning the Zap off deletes the subscription.

const baseurl = require('../lib/baseurl');
const inbox = require('../lib/inbox');
const { record, readJSON, HOOK_FIELDS, HOOK_SAMPLE } = require('../lib/events');
const { parseLossless, toPlain, isObject } = require('../lib/json');
const { failure } = require('../lib/middleware');
const { verify } = require('../lib/signature');

async function performSubscribe(z, bundle) {
  const base = baseurl.fromBundle(z, bundle);
  const type = inbox.eventType(bundle);
  const response = await z.request({
    url: `${base}/subscriptions`,
    method: 'POST',
    json: { target_url: bundle.targetUrl, event_types: type === '' ? [] : [type] },
  });
  const sub = toPlain(readJSON(z, response));
  if (!isObject(sub) || typeof sub.id !== 'string' || sub.id === '') {
    throw new z.errors.Error('POST /subscriptions answered without a subscription id.', 'unexpected_response', response.status);
  }
  // Zapier keeps this object as bundle.subscribeData: the id to delete on
  // unsubscribe, and the secret that perform verifies deliveries with.
  return sub;
}

async function performUnsubscribe(z, bundle) {
  const id = (bundle.subscribeData || {}).id;
  if (typeof id !== 'string' || id === '') {
    // Nothing was subscribed (subscribe failed); nothing to delete.
    return { deleted: false };
  }
  const base = baseurl.fromBundle(z, bundle);
  const response = await z.request({
    url: `${base}/subscriptions/${encodeURIComponent(id)}`,
    method: 'DELETE',
    skipThrowForStatus: true,
  });
  if (response.status === 404) {
    // Already gone: Triggers deletes a subscription when Zapier answers a
    // delivery with 410, and an operator may have removed it. Turning the
    // Zap off must still succeed.
    return { id, deleted: false };
  }
  if (response.status >= 400) {
    throw failure(z, bundle, response);
  }
  return { id, deleted: true };
}

// perform turns one pushed delivery into the trigger's output. When Zapier
// provides the raw request and the subscription has a secret, the Standard
// Webhooks signature is checked first, and the event is read from the raw
// body so that long numbers keep every digit.
async function perform(z, bundle) {
  const raw = bundle.rawRequest;
  const secret = (bundle.subscribeData || {}).secret;
  let event;
  if (raw && typeof raw.content === 'string' && raw.content !== '') {
    if (typeof secret === 'string' && secret !== '') {
      const why = verify(secret, raw.headers, raw.content);
      if (why !== '') {
        throw new z.errors.HaltedError(`Ignored a request that is not a signed Triggers delivery: ${why}.`);
      }
    }
    try {
      event = parseLossless(raw.content);
    } catch (_e) {
      throw new z.errors.HaltedError('Ignored a request whose body is not JSON.');
    }
  } else {
    event = bundle.cleanedRequest;
  }
  if (!isObject(event) || typeof event.id !== 'string' || typeof event.type !== 'string') {
    throw new z.errors.HaltedError('Ignored a request that is not a Triggers event (no id or type).');
  }
  return [record(event)];
}

// asPushed drops what a pushed event does not carry, so samples and real
// runs have the same fields.
function asPushed(r) {
  const out = { ...r };
  delete out.status;
  delete out.updated_at;
  return out;
}

// performList loads samples in the Zap editor from the inbox, shaped like
// a pushed event (no status or updated_at).
async function performList(z, bundle) {
  const pattern = inbox.eventType(bundle);
  const limit = inbox.limitFor(bundle);
  let events;
  if (pattern.endsWith('*')) {
    const all = await inbox.list(z, bundle, { limit: inbox.LIMIT });
    events = all.filter((e) => inbox.patternMatches(pattern, e.type)).slice(0, limit);
  } else {
    events = await inbox.list(z, bundle, { type: pattern, limit });
  }
  return events.map(asPushed);
}

module.exports = {
  key: 'new_event_instant',
  noun: 'Event',
  display: {
    label: 'New Event (Instant)',
    description: 'Triggers instantly when a new event arrives in Triggers (pushed to Zapier by a webhook subscription).',
  },
  operation: {
    type: 'hook',
    inputFields: [
      {
        key: 'event_type',
        label: 'Event Type',
        type: 'string',
        required: false,
        helpText:
          'Only trigger on this event type (e.g. `order.created`), or on every type starting with a prefix ' +
          'when it ends in `*` (e.g. `order.*`). Leave empty for every type.',
      },
    ],
    performSubscribe,
    performUnsubscribe,
    perform,
    performList,
    sample: HOOK_SAMPLE,
    outputFields: HOOK_FIELDS,
  },
};
