'use strict';

// "Send Event", "Acknowledge Event" and "Find Event" against a real
// `triggers serve`.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const zapier = require('zapier-platform-core');

const App = require('../index');
const srv = require('./support/server');
const { appError } = require('./support/errors');

const appTester = zapier.createAppTester(App);
const send = App.creates.send_event.operation.perform;
const ack = App.creates.ack_event.operation.perform;
const find = App.searches.find_event.operation.perform;
const poll = App.triggers.new_event.operation.perform;

describe('actions and search', () => {
  let server;
  let token;
  let authData;
  const bundle = (inputData = {}, auth = authData) => ({ authData: auth, inputData, meta: {} });
  const session = async (apiKey) => {
    const base = { api_url: server.url, api_key: apiKey };
    return { ...base, ...(await appTester(App.authentication.sessionConfig.perform, { authData: base })) };
  };

  before(async () => {
    server = await srv.start({ createKeys: [{ name: 'read-only', args: ['--scopes', 'inbox:read'] }] });
    token = await srv.token(server);
    authData = await session(server.apiKey);
  });
  after(async () => {
    if (server) {
      await server.stop();
    }
  });

  describe('Send Event', () => {
    it('sends a JSON payload whose long numbers, unicode and curly braces round-trip exactly', async () => {
      const type = srv.uniqueType('send.json');
      const payloadJSON =
        '{"big": 12345678901234567890123, "neg": -9007199254740993, "pi": 3.141592653589793238462643383279,' +
        ' "tiny": 1e-400, "text": "Zoë \\u00e9 😀 日本 \\"quoted\\"", "template": "{{bundle.authData.access_token}}",' +
        ' "nested": {"list": [1, 2.50, {"deep": true}], "null": null}}';
      const out = await appTester(send, bundle({ type, source: 'zapier', payload_json: payloadJSON }));

      assert.match(out.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
      assert.equal(out.type, type);
      assert.equal(out.source, 'zapier');
      assert.equal(out.status, 'pending');
      assert.equal(out.idempotent_replayed, false);
      assert.equal(out.payload.big, '12345678901234567890123');
      assert.equal(out.payload.neg, '-9007199254740993');
      assert.equal(out.payload.template, '{{bundle.authData.access_token}}');

      // What the server stored, read independently: the payload as sent,
      // compacted, every number's digits and every escape intact.
      const stored = await srv.api(server, token, 'GET', `/events/${out.id}`);
      assert.equal(stored.status, 200);
      const compact =
        '{"big":12345678901234567890123,"neg":-9007199254740993,"pi":3.141592653589793238462643383279,' +
        '"tiny":1e-400,"text":"Zoë \\u00e9 😀 日本 \\"quoted\\"","template":"{{bundle.authData.access_token}}",' +
        '"nested":{"list":[1,2.50,{"deep":true}],"null":null}}';
      assert.ok(stored.text.includes(`"payload":${compact}`), `got ${stored.text}, want payload ${compact}`);

      // Find Event reads it back the same way.
      const [found] = await appTester(find, bundle({ id: out.id }));
      assert.equal(found.payload.big, '12345678901234567890123');
      assert.equal(found.payload.pi, '3.141592653589793238462643383279');
      assert.equal(found.payload.text, 'Zoë é 😀 日本 "quoted"');
      assert.equal(found.payload.nested.list[1], 2.5);
      assert.equal(
        found.payload_json,
        '{"big":12345678901234567890123,"neg":-9007199254740993,"pi":3.141592653589793238462643383279,' +
          '"tiny":1e-400,"text":"Zoë é 😀 日本 \\"quoted\\"","template":"{{bundle.authData.access_token}}",' +
          '"nested":{"list":[1,2.50,{"deep":true}],"null":null}}',
      );
      assert.equal(found.payload_json, out.payload_json);
    });

    it('sends key/value payload fields as text', async () => {
      const type = srv.uniqueType('send.dict');
      const out = await appTester(send, bundle({ type, source: 'zapier', payload: { order_id: '1042', note: 'ünïcode ✓' } }));
      const [found] = await appTester(find, bundle({ id: out.id }));
      assert.deepEqual(found.payload, { order_id: '1042', note: 'ünïcode ✓' });
    });

    it('sends an empty object when no payload is given', async () => {
      const out = await appTester(send, bundle({ type: srv.uniqueType('send.empty'), source: 'zapier' }));
      assert.deepEqual(out.payload, {});
      assert.equal(out.payload_json, '{}');
    });

    it('returns the first event again for a repeated idempotency key', async () => {
      const type = srv.uniqueType('send.idem');
      const key = `order-${crypto.randomUUID()}`;
      const input = { type, source: 'zapier', payload_json: '{"order_id": 7}', idempotency_key: key };
      const first = await appTester(send, bundle(input));
      const again = await appTester(send, bundle(input));
      assert.equal(again.id, first.id);
      assert.equal(first.idempotent_replayed, false);
      assert.equal(again.idempotent_replayed, true);
      assert.equal((await appTester(poll, bundle({ event_type: type }))).length, 1);

      await assert.rejects(appTester(send, bundle({ ...input, payload_json: '{"order_id": 8}' })), (err) => {
        const e = appError(err);
        assert.equal(e.code, 'idempotency_conflict');
        assert.equal(e.status, 422);
        return true;
      });
    });

    const refused = [
      { name: 'invalid JSON', input: { payload_json: '{"a": 1,' }, code: 'invalid_payload', want: /not valid JSON/ },
      { name: 'a JSON array', input: { payload_json: '[1, 2]' }, code: 'invalid_payload', want: /must be a JSON object/ },
      { name: 'a JSON string', input: { payload_json: '"text"' }, code: 'invalid_payload', want: /must be a JSON object/ },
      { name: 'a duplicate key', input: { payload_json: '{"a": 1, "a": 2}' }, code: 'invalid_payload', want: /Duplicate key/ },
      { name: 'both payload fields', input: { payload_json: '{"a": 1}', payload: { b: '2' } }, code: 'invalid_payload', want: /not both/ },
      { name: 'a non-ASCII idempotency key', input: { idempotency_key: 'clé' }, code: 'invalid_idempotency_key', want: /printable ASCII/ },
    ];
    for (const tc of refused) {
      it(`refuses ${tc.name} before sending`, async () => {
        const type = srv.uniqueType('send.refused');
        await assert.rejects(appTester(send, bundle({ type, source: 'zapier', ...tc.input })), (err) => {
          const e = appError(err);
          assert.equal(e.code, tc.code);
          assert.match(e.message, tc.want);
          return true;
        });
        assert.deepEqual(await appTester(poll, bundle({ event_type: type })), []);
      });
    }

    it('reports the server\'s field errors readably (422)', async () => {
      await assert.rejects(appTester(send, bundle({ type: '', source: 'zapier' })), (err) => {
        const e = appError(err);
        assert.equal(e.code, 'validation_failed');
        assert.equal(e.status, 422);
        assert.match(e.message, /^body\.type: /);
        assert.match(e.message, /POST \/events on 127\.0\.0\.1:\d+: HTTP 422, code validation_failed/);
        return true;
      });
    });

    it('says which scope a key lacks (403 is not a refresh)', async () => {
      const readOnly = await session(server.created['read-only'].key);
      await assert.rejects(appTester(send, bundle({ type: 'x.y', source: 'zapier' }, readOnly)), (err) => {
        const e = appError(err);
        assert.equal(e.code, 'forbidden');
        assert.equal(e.status, 403);
        assert.match(e.message, /events:write/);
        return true;
      });
    });
  });

  describe('Acknowledge Event', () => {
    it('acknowledges an event so that the next poll no longer returns it', async () => {
      const type = srv.uniqueType('ack.flow');
      const keep = await appTester(send, bundle({ type, source: 'zapier', payload_json: '{"keep": true}' }));
      const done = await appTester(send, bundle({ type, source: 'zapier', payload_json: '{"keep": false}' }));
      assert.deepEqual((await appTester(poll, bundle({ event_type: type }))).map((e) => e.id), [done.id, keep.id]);

      const acked = await appTester(ack, bundle({ id: `${done.id}\n` }));
      assert.equal(acked.id, done.id);
      assert.equal(acked.status, 'delivered');
      assert.deepEqual(acked.payload, { keep: false });
      assert.ok(acked.updated_at >= acked.created_at);

      assert.deepEqual((await appTester(poll, bundle({ event_type: type }))).map((e) => e.id), [keep.id]);

      const again = await appTester(ack, bundle({ id: done.id }));
      assert.equal(again.status, 'delivered');

      const [found] = await appTester(find, bundle({ id: done.id }));
      assert.equal(found.status, 'delivered');
    });

    for (const tc of [
      { name: 'an unknown id', id: '019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61' },
      { name: 'a malformed id', id: 'not-an-id' },
      { name: 'a path-changing id', id: '..' },
      { name: 'an empty id', id: '  ' },
    ]) {
      it(`says not found for ${tc.name}`, async () => {
        await assert.rejects(appTester(ack, bundle({ id: tc.id })), (err) => {
          const e = appError(err);
          assert.equal(e.code, 'not_found');
          assert.equal(e.status, 404);
          return true;
        });
      });
    }
  });

  describe('Find Event', () => {
    it('finds an event by id', async () => {
      const type = srv.uniqueType('find.one');
      const sent = await appTester(send, bundle({ type, source: 'shop', payload_json: '{"order_id": 1042}' }));
      const found = await appTester(find, bundle({ id: sent.id }));
      assert.equal(found.length, 1);
      assert.deepEqual(Object.keys(found[0]), ['id', 'type', 'source', 'status', 'created_at', 'updated_at', 'payload', 'payload_json']);
      assert.equal(found[0].id, sent.id);
      assert.equal(found[0].type, type);
      assert.equal(found[0].source, 'shop');
      assert.equal(found[0].status, 'pending');
      assert.equal(found[0].created_at, sent.created_at);
      assert.deepEqual(found[0].payload, { order_id: 1042 });
    });

    for (const tc of [
      { name: 'an unknown id', id: '019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61' },
      { name: 'a malformed id', id: 'nope' },
      { name: 'an id with a slash', id: '../token' },
      { name: 'a path-changing id', id: '..' },
      { name: 'an empty id', id: '' },
    ]) {
      it(`finds nothing (not an error) for ${tc.name}`, async () => {
        assert.deepEqual(await appTester(find, bundle({ id: tc.id })), []);
      });
    }
  });
});
