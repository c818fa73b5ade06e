'use strict';

// The instant trigger's perform, on deliveries shaped the way Zapier hands
// them over (bundle.rawRequest with "Http-" header names, bundle.cleanedRequest,
// bundle.subscribeData from performSubscribe). The signed delivery is the
// worked example in docs/webhooks.md, which pkg/webhook's Go tests check
// against the server's signer: the two sides agree on one fixed example.
// The end-to-end subscribe → push → perform → unsubscribe test against the
// real server is test/instant/instant.test.js.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const zapier = require('zapier-platform-core');

const App = require('../index');
const { verify } = require('../lib/signature');

const appTester = zapier.createAppTester(App);
const perform = App.triggers.new_event_instant.operation.perform;
const unsubscribe = App.triggers.new_event_instant.operation.performUnsubscribe;

// docsExample reads the signature example block of docs/webhooks.md.
function docsExample() {
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'webhooks.md'), 'utf8');
  const block = /<!-- signature-example:begin -->([\s\S]*?)<!-- signature-example:end -->/.exec(doc);
  assert.ok(block, 'docs/webhooks.md has a signature-example block');
  const fields = {};
  for (const line of block[1].split('\n')) {
    const m = /^(secret|webhook-id|webhook-timestamp|body|webhook-signature)\s+(.+)$/.exec(line);
    if (m) {
      fields[m[1]] = m[2];
    }
  }
  for (const k of ['secret', 'webhook-id', 'webhook-timestamp', 'body', 'webhook-signature']) {
    assert.ok(fields[k], `the example has ${k}`);
  }
  return fields;
}

// zapierDelivery builds the bundle Zapier gives perform for one delivery.
function zapierDelivery(ex, { content = ex.body, signature = ex['webhook-signature'], secret = ex.secret } = {}) {
  return {
    authData: { api_url: 'https://triggers.example.com', api_key: 'k', access_token: 't' },
    inputData: {},
    meta: {},
    targetUrl: 'https://hooks.zapier.com/hooks/standard/1/abc/',
    subscribeData: { id: 'sub_1', target_url: 'https://hooks.zapier.com/hooks/standard/1/abc/', event_types: [], secret },
    rawRequest: {
      method: 'POST',
      querystring: '',
      headers: {
        'Http-Content-Type': 'application/json',
        'Http-Webhook-Id': ex['webhook-id'],
        'Http-Webhook-Timestamp': ex['webhook-timestamp'],
        ...(signature === null ? {} : { 'Http-Webhook-Signature': signature }),
      },
      content,
    },
    cleanedRequest: JSON.parse(content),
  };
}

describe('New Event (Instant): perform', () => {
  const ex = docsExample();

  it('verifies the documented example signature', () => {
    assert.equal(verify(ex.secret, { 'webhook-id': ex['webhook-id'], 'webhook-timestamp': ex['webhook-timestamp'], 'webhook-signature': ex['webhook-signature'] }, ex.body), '');
  });

  it('returns the pushed event, shaped like the polling trigger without status', async () => {
    const out = await appTester(perform, zapierDelivery(ex));
    const event = JSON.parse(ex.body);
    assert.deepEqual(out, [
      {
        id: event.id,
        type: event.type,
        source: event.source,
        created_at: event.created_at,
        payload: event.payload,
        payload_json: JSON.stringify(event.payload),
      },
    ]);
  });

  it('accepts one matching signature among several (secret rotation)', async () => {
    const out = await appTester(perform, zapierDelivery(ex, { signature: `v1,bm90LXRoaXMtb25lLW5vdC10aGlzLW9uZS1ub3QtdGhpcw== ${ex['webhook-signature']}` }));
    assert.equal(out.length, 1);
  });

  const forged = [
    { name: 'a changed body', opts: (e) => ({ content: e.body.replace('1042', '1043') }), want: /no v1 signature matches/ },
    { name: 'a wrong secret', opts: () => ({ secret: 'whsec_dGhpcy1pcy1ub3QtdGhlLXNlY3JldC1hdC1hbGwtMzI=' }), want: /no v1 signature matches/ },
    { name: 'no signature header', opts: () => ({ signature: null }), want: /lacks the webhook-id/ },
    { name: 'a v2 signature only', opts: (e) => ({ signature: e['webhook-signature'].replace('v1,', 'v2,') }), want: /no v1 signature matches/ },
  ];
  for (const tc of forged) {
    it(`halts on ${tc.name}`, async () => {
      await assert.rejects(appTester(perform, zapierDelivery(ex, tc.opts(ex))), (err) => {
        assert.equal(err.name, 'HaltedError');
        assert.match(err.message, tc.want);
        return true;
      });
    });
  }

  it('keeps long numbers exact when the raw body is available', async () => {
    const body = '{"id":"019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61","type":"t","source":"s","payload":{"n":12345678901234567890},"created_at":"2026-11-28T10:00:00Z"}';
    const bundle = zapierDelivery(ex, { content: body });
    bundle.subscribeData.secret = undefined; // a subscription without a secret cannot be verified
    const [e] = await appTester(perform, bundle);
    assert.equal(e.payload.n, '12345678901234567890');
    assert.equal(e.payload_json, '{"n":12345678901234567890}');
  });

  it('uses cleanedRequest when Zapier gives no raw request', async () => {
    const bundle = zapierDelivery(ex);
    delete bundle.rawRequest;
    const [e] = await appTester(perform, bundle);
    assert.equal(e.id, JSON.parse(ex.body).id);
  });

  it('halts on a body that is not a Triggers event', async () => {
    const bundle = zapierDelivery(ex);
    delete bundle.rawRequest;
    bundle.cleanedRequest = { hello: 'world' };
    await assert.rejects(appTester(perform, bundle), { name: 'HaltedError' });
  });

  it('unsubscribes nothing when subscribing never succeeded', async () => {
    assert.deepEqual(await appTester(unsubscribe, { authData: { api_url: 'https://triggers.example.com' }, subscribeData: {} }), { deleted: false });
  });
});
