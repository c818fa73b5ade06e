'use strict';

// "New Event" (polling) against a real `triggers serve`: ids for Zapier's
// dedup, newest first, the type filter, sample sizing, one page, fields that
// stay the same from poll to poll, and payloads that trip naive JSON code.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const zapier = require('zapier-platform-core');

const App = require('../index');
const srv = require('./support/server');
const { appError } = require('./support/errors');

const appTester = zapier.createAppTester(App);
const poll = App.triggers.new_event.operation.perform;

describe('New Event (polling trigger)', () => {
  let server;
  let token; // for setting up events directly
  let authData;
  const bundle = (inputData = {}, meta = {}) => ({ authData, inputData, meta });

  // send creates n events of type, oldest first, and returns their ids.
  async function send(type, n, payload = (i) => ({ n: i })) {
    const ids = [];
    for (let i = 0; i < n; i++) {
      ids.push(await srv.sendEvent(server, token, { type, source: 'test', payload: payload(i) }));
    }
    return ids;
  }

  before(async () => {
    server = await srv.start();
    token = await srv.token(server);
    const base = { api_url: server.url, api_key: server.apiKey };
    const session = await appTester(App.authentication.sessionConfig.perform, { authData: base });
    authData = { ...base, ...session };
  });
  after(async () => {
    if (server) {
      await server.stop();
    }
  });

  it('returns pending events newest first, each with an id and the event fields', async () => {
    const type = srv.uniqueType('poll.order');
    const ids = await send(type, 5);
    const out = await appTester(poll, bundle({ event_type: type }));
    assert.deepEqual(out.map((e) => e.id), [...ids].reverse());
    out.forEach((e, i) => {
      const n = 4 - i;
      assert.deepEqual(Object.keys(e), ['id', 'type', 'source', 'status', 'created_at', 'updated_at', 'payload', 'payload_json']);
      assert.equal(e.type, type);
      assert.equal(e.source, 'test');
      assert.equal(e.status, 'pending');
      assert.deepEqual(e.payload, { n });
      assert.equal(e.payload_json, `{"n":${n}}`);
      assert.ok(!Number.isNaN(Date.parse(e.created_at)), `created_at ${e.created_at} is not a date`);
    });
    for (let i = 1; i < out.length; i++) {
      assert.ok(out[i - 1].created_at >= out[i].created_at, `got ${out[i - 1].created_at} before ${out[i].created_at}, want newest first`);
      assert.ok(out[i - 1].id > out[i].id, 'UUIDv7 ids sort like their creation times');
    }
  });

  it('filters on the event type, and lists every type without a filter', async () => {
    const a = srv.uniqueType('poll.a');
    const b = srv.uniqueType('poll.b');
    const aIDs = [];
    const bIDs = [];
    for (let i = 0; i < 3; i++) {
      aIDs.push(...(await send(a, 1)));
      bIDs.push(...(await send(b, 1)));
    }
    assert.deepEqual((await appTester(poll, bundle({ event_type: a }))).map((e) => e.id), [...aIDs].reverse());
    assert.deepEqual((await appTester(poll, bundle({ event_type: ` ${b}\n` }))).map((e) => e.id), [...bIDs].reverse());
    assert.deepEqual(await appTester(poll, bundle({ event_type: srv.uniqueType('poll.none') })), []);

    const all = await appTester(poll, bundle({ event_type: '' }));
    const interleaved = [bIDs[2], aIDs[2], bIDs[1], aIDs[1], bIDs[0], aIDs[0]];
    assert.deepEqual(all.slice(0, 6).map((e) => e.id), interleaved);
  });

  it('returns 3 events when Zapier loads a sample, 100 otherwise', async () => {
    const type = srv.uniqueType('poll.sample');
    const ids = await send(type, 5);
    const sample = await appTester(poll, bundle({ event_type: type }, { isLoadingSample: true }));
    assert.deepEqual(sample.map((e) => e.id), [ids[4], ids[3], ids[2]]);

    const sampleAll = await appTester(poll, bundle({}, { isLoadingSample: true }));
    assert.equal(sampleAll.length, 3);
    const full = await appTester(poll, bundle({}, { isLoadingSample: false }));
    assert.deepEqual(sampleAll, full.slice(0, 3));
  });

  it('returns one full page (the newest 100) when more are pending', async () => {
    const type = srv.uniqueType('poll.page');
    const ids = await send(type, 105);
    const out = await appTester(poll, bundle({ event_type: type }));
    assert.equal(out.length, 100);
    assert.deepEqual(out.map((e) => e.id), ids.slice(5).reverse());
  });

  it('keeps every field of an event identical from poll to poll (stable dedup)', async () => {
    const type = srv.uniqueType('poll.stable');
    await send(type, 3, (i) => ({ i, big: 12345678901234567890n.toString(), nested: { list: [i, 'x'] } }));
    const first = await appTester(poll, bundle({ event_type: type }));
    const second = await appTester(poll, bundle({ event_type: type }));
    assert.deepEqual(second, first);

    const [newID] = await send(type, 1);
    const third = await appTester(poll, bundle({ event_type: type }));
    assert.equal(third[0].id, newID);
    assert.deepEqual(third.slice(1), first);
  });

  it('keeps long numbers exact and survives duplicate and __proto__ keys in payloads', async () => {
    const type = srv.uniqueType('poll.json');
    const raw =
      `{"type":${JSON.stringify(type)},"source":"test","payload":` +
      '{"big":12345678901234567890123,"float":0.1000000000000000055511151231257827,"small":1e-400,' +
      '"dup":1,"dup":2,"__proto__":{"polluted":true},"text":"Zo\\u00eb \\ud83d\\ude00 日本"}}';
    const res = await srv.api(server, token, 'POST', '/events', raw);
    assert.equal(res.status, 201, res.text);

    const [e] = await appTester(poll, bundle({ event_type: type }));
    assert.equal(e.payload.big, '12345678901234567890123');
    assert.equal(e.payload.float, '0.1000000000000000055511151231257827');
    assert.equal(e.payload.small, '1e-400');
    assert.equal(e.payload.dup, 2);
    assert.deepEqual(Object.getOwnPropertyDescriptor(e.payload, '__proto__').value, { polluted: true });
    assert.equal({}.polluted, undefined);
    assert.equal(e.payload.text, 'Zoë 😀 日本');
    assert.match(e.payload_json, /"big":12345678901234567890123,/);
    assert.match(e.payload_json, /"float":0\.1000000000000000055511151231257827,/);
  });

  it('refuses a prefix pattern, which only the instant trigger supports', async () => {
    await assert.rejects(appTester(poll, bundle({ event_type: 'order.*' })), (err) => {
      const e = appError(err);
      assert.equal(e.code, 'invalid_event_type');
      assert.match(e.message, /New Event \(Instant\)/);
      return true;
    });
  });

  it('turns a 422 for a bad filter into a readable error naming the field', async () => {
    await assert.rejects(appTester(poll, bundle({ event_type: 'x'.repeat(300) })), (err) => {
      const e = appError(err);
      assert.equal(e.code, 'validation_failed');
      assert.equal(e.status, 422);
      assert.match(e.message, /^query\.type: /);
      assert.match(e.message, /GET \/inbox on 127\.0\.0\.1:\d+: HTTP 422/);
      return true;
    });
  });
});
