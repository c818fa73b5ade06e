'use strict';

// The app definition: it loads and validates with no network, and declares
// what the integration promises (keys, auth fields, samples, output fields).

const { describe, it, before } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const path = require('path');

describe('app definition', () => {
  let report;

  before(() => {
    const out = execFileSync(
      process.execPath,
      ['--require', path.join(__dirname, 'support', 'no-network.js'), path.join(__dirname, 'support', 'validate-offline.js')],
      { encoding: 'utf8', env: { ...process.env, NODE_ENV: 'test' }, maxBuffer: 16 << 20 },
    );
    report = JSON.parse(out);
  });

  it('passes zapier-platform-core validation and zapier-platform-schema validation offline', () => {
    assert.deepEqual(report.coreErrors, []);
    assert.deepEqual(report.schemaErrors, []);
  });

  it('proves the no-network guard works', () => {
    assert.throws(
      () =>
        execFileSync(process.execPath, ['--require', path.join(__dirname, 'support', 'no-network.js'), '-e', 'require("http").get("http://127.0.0.1:9/")'], {
          stdio: 'pipe',
        }),
      /network access attempted/,
    );
  });

  it('is on zapier-platform-core 19.1.0 with session authentication', () => {
    const d = report.definition;
    assert.equal(d.platformVersion, '19.1.0');
    assert.equal(d.authentication.type, 'session');
    assert.deepEqual(
      d.authentication.fields.map((f) => [f.key, f.type, f.required]),
      [
        ['api_url', 'string', true],
        ['api_key', 'password', true],
      ],
    );
    assert.ok(d.authentication.sessionConfig.perform, 'sessionConfig.perform is defined');
    assert.ok(d.authentication.test, 'test is defined');
    assert.ok(d.authentication.connectionLabel, 'connectionLabel is defined');
    assert.equal(d.beforeRequest.length, 1);
    assert.equal(d.afterResponse.length, 1);
  });

  it('has the promised triggers, creates and search, each with a sample and output fields', () => {
    const d = report.definition;
    assert.deepEqual(Object.keys(d.triggers).sort(), ['new_event', 'new_event_instant']);
    assert.deepEqual(Object.keys(d.creates).sort(), ['ack_event', 'send_event']);
    assert.deepEqual(Object.keys(d.searches), ['find_event']);
    assert.equal(d.triggers.new_event.operation.type, 'polling');
    const hook = d.triggers.new_event_instant.operation;
    assert.equal(hook.type, 'hook');
    for (const m of ['performSubscribe', 'performUnsubscribe', 'perform', 'performList']) {
      assert.ok(hook[m], `the instant trigger defines ${m}`);
    }
    const all = [...Object.values(d.triggers), ...Object.values(d.creates), ...Object.values(d.searches)];
    for (const op of all) {
      assert.ok(op.operation.sample && op.operation.sample.id, `${op.key} has a sample with an id`);
      const keys = op.operation.outputFields.map((f) => f.key);
      assert.ok(keys.includes('id') && keys.includes('payload_json'), `${op.key} output fields: ${keys}`);
      for (const k of Object.keys(op.operation.sample)) {
        if (k !== 'payload') {
          assert.ok(keys.includes(k), `${op.key}: sample member ${k} has no output field`);
        }
      }
    }
  });
});
