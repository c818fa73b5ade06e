'use strict';

// "Send Event": POST /events.

const baseurl = require('../lib/baseurl');
const { record, readJSON, FIELDS, SAMPLE } = require('../lib/events');
const { parseStrict, isObject } = require('../lib/json');

function text(v) {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

// payloadText returns the payload as JSON text. Payload (JSON) is sent as
// typed, never parsed and re-serialised, so its numbers reach Triggers with
// every digit (JS numbers would round 12345678901234567890). It is parsed
// only to check that it is one JSON object.
function payloadText(z, input) {
  const json = text(input.payload_json).trim();
  const dict = input.payload && typeof input.payload === 'object' && !Array.isArray(input.payload) ? input.payload : {};
  const hasDict = Object.keys(dict).length > 0;
  if (json !== '' && hasDict) {
    throw new z.errors.Error(
      'Fill in either Payload (JSON) or Payload (Fields), not both.',
      'invalid_payload',
      400,
    );
  }
  if (json === '') {
    return JSON.stringify(dict);
  }
  let parsed;
  try {
    parsed = parseStrict(json);
  } catch (err) {
    throw new z.errors.Error(`Payload (JSON) is not valid JSON: ${err.message}.`, 'invalid_payload', 400);
  }
  if (!isObject(parsed)) {
    throw new z.errors.Error(
      'Payload (JSON) must be a JSON object such as {"order_id": 1042}, not an array, string or number.',
      'invalid_payload',
      400,
    );
  }
  return json;
}

// idempotencyKey returns the trimmed key, checked to be a valid header value.
function idempotencyKey(z, input) {
  const key = text(input.idempotency_key).trim();
  if (key !== '' && !/^[\x21-\x7e]+$/.test(key)) {
    throw new z.errors.Error(
      'Idempotency Key must be printable ASCII without spaces (for example an order number or a UUID).',
      'invalid_idempotency_key',
      400,
    );
  }
  return key;
}

function sendSample() {
  const sample = { ...SAMPLE, idempotent_replayed: false };
  delete sample.updated_at; // POST /events answers no update time
  return sample;
}

async function perform(z, bundle) {
  const input = bundle.inputData || {};
  const base = baseurl.fromBundle(z, bundle);
  const type = text(input.type);
  const source = text(input.source);
  const payload = payloadText(z, input);
  const key = idempotencyKey(z, input);
  const headers = { 'Content-Type': 'application/json' };
  if (key !== '') {
    headers['Idempotency-Key'] = key;
  }
  // A Buffer body goes out byte for byte: z.request neither re-encodes it
  // nor rejects "{{bundle.…}}" text inside it, which is legitimate payload.
  const body = Buffer.from(
    `{"type":${JSON.stringify(type)},"source":${JSON.stringify(source)},"payload":${payload}}`,
    'utf8',
  );
  const response = await z.request({ url: `${base}/events`, method: 'POST', headers, body });
  const created = readJSON(z, response);
  const out = record({
    id: created.id,
    type,
    source,
    status: created.status,
    created_at: created.timestamp,
    payload: parseStrict(payload),
  });
  out.idempotent_replayed = response.headers.get('idempotent-replayed') === 'true';
  return out;
}

module.exports = {
  key: 'send_event',
  noun: 'Event',
  display: {
    label: 'Send Event',
    description: 'Sends a new event to the Triggers inbox.',
  },
  operation: {
    inputFields: [
      {
        key: 'type',
        label: 'Event Type',
        type: 'string',
        required: true,
        helpText: 'What happened, as a dotted name such as `order.created` (1–128 characters).',
      },
      {
        key: 'source',
        label: 'Source',
        type: 'string',
        required: true,
        default: 'zapier',
        helpText: 'Which system the event comes from, such as `shop` (1–128 characters).',
      },
      {
        key: 'payload_json',
        label: 'Payload (JSON)',
        type: 'text',
        required: false,
        helpText:
          'The event data as one JSON object, e.g. `{"order_id": 1042, "total": "19.90"}`. It is sent exactly ' +
          'as written, so long numbers keep every digit. Use this or Payload (Fields), not both.',
      },
      {
        key: 'payload',
        label: 'Payload (Fields)',
        dict: true,
        required: false,
        helpText: 'The event data as names and values (every value is sent as text). Use this or Payload (JSON).',
      },
      {
        key: 'idempotency_key',
        label: 'Idempotency Key',
        type: 'string',
        required: false,
        helpText:
          'Optional. Sending again with the same key (e.g. when Zapier replays a failed run) returns the first ' +
          'event instead of creating a duplicate. Map something unique to the thing that happened, such as an order ID.',
      },
    ],
    perform,
    sample: sendSample(),
    outputFields: [
      ...FIELDS.filter((f) => f.key !== 'updated_at'),
      { key: 'idempotent_replayed', label: 'Replayed (Idempotency Key Seen Before)', type: 'boolean' },
    ],
  },
};
