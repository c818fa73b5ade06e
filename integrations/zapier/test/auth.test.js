'use strict';

// Session authentication against a real `triggers serve`: the key exchange,
// the test call and connection label, readable errors for a wrong key or a
// bad URL, and the refresh cycle when a token stops verifying.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const zapier = require('zapier-platform-core');

const App = require('../index');
const srv = require('./support/server');
const { appError } = require('./support/errors');

const appTester = zapier.createAppTester(App);
const getToken = App.authentication.sessionConfig.perform;
const poll = App.triggers.new_event.operation.perform;

describe('session authentication', () => {
  let server;
  let host;
  const authData = (extra = {}) => ({ api_url: server.url, api_key: server.apiKey, ...extra });

  before(async () => {
    server = await srv.start({ createKeys: ['zapier-label', 'to-revoke'] });
    host = new URL(server.url).host;
  });
  after(async () => {
    if (server) {
      await server.stop();
    }
  });

  it('exchanges the API key for a token that the auth test accepts', async () => {
    const session = await appTester(getToken, { authData: authData() });
    assert.deepEqual(Object.keys(session), ['access_token']);
    assert.match(session.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'got %s, want a JWT');

    const result = await appTester(App.authentication.test, { authData: authData(session) });
    assert.deepEqual(result, { api_host: host, key_id: '' });

    const label = await appTester(App.authentication.connectionLabel, { authData: authData(session), inputData: result });
    assert.equal(label, host);
  });

  it('labels a connection made with a generated key with the key id', async () => {
    const { key, id } = server.created['zapier-label'];
    const session = await appTester(getToken, { authData: authData({ api_key: key }) });
    const result = await appTester(App.authentication.test, { authData: authData({ api_key: key, ...session }) });
    assert.deepEqual(result, { api_host: host, key_id: id });
    const label = await appTester(App.authentication.connectionLabel, { authData: authData({ api_key: key }), inputData: result });
    assert.equal(label, `${host} (key ${id})`);
  });

  it('accepts api_url with a trailing slash and surrounding spaces', async () => {
    const session = await appTester(getToken, { authData: authData({ api_url: ` ${server.url}/ ` }) });
    const result = await appTester(App.authentication.test, { authData: authData({ api_url: `${server.url}/`, ...session }) });
    assert.equal(result.api_host, host);
  });

  it('says plainly that a wrong API key was rejected, without echoing it', async () => {
    const wrong = 'not-the-key-5f1e2d';
    await assert.rejects(appTester(getToken, { authData: authData({ api_key: wrong }) }), (err) => {
      const e = appError(err);
      assert.equal(e.code, 'invalid_api_key');
      assert.equal(e.status, 401);
      assert.match(e.message, /rejected the API key/);
      assert.ok(!err.message.includes(wrong), `error ${err.message} contains the key`);
      return true;
    });
  });

  it('says plainly that a revoked key was rejected', async () => {
    const { key, id } = server.created['to-revoke'];
    assert.equal(await rawTokenStatus(server, key), 200);
    server.keys('revoke', id);
    await waitUntil(async () => (await rawTokenStatus(server, key)) === 401, 'the revoked key to be refused');
    await assert.rejects(appTester(getToken, { authData: authData({ api_key: key }) }), (err) => {
      assert.equal(appError(err).code, 'invalid_api_key');
      return true;
    });
  });

  const badURLs = [
    { name: 'empty', url: '', want: /is required/ },
    { name: 'not a URL', url: 'triggers example com', want: /not a URL/ },
    { name: 'ftp', url: 'ftp://triggers.example.com', want: /https/ },
    { name: 'plain http to a public host', url: 'http://triggers.example.com', want: /https/ },
    { name: 'credentials in the URL', url: 'https://user:secret@triggers.example.com', want: /user name or password/ },
    { name: 'query string', url: 'https://triggers.example.com/?x=1', want: /query string/ },
    { name: 'fragment', url: 'https://triggers.example.com/#top', want: /fragment/ },
  ];
  for (const tc of badURLs) {
    it(`refuses a bad API URL before any request: ${tc.name}`, async () => {
      await assert.rejects(appTester(getToken, { authData: authData({ api_url: tc.url }) }), (err) => {
        const e = appError(err);
        assert.equal(e.code, 'invalid_api_url');
        assert.match(e.message, tc.want);
        assert.ok(!err.message.includes('secret@'), `error ${err.message} echoes the URL's credentials`);
        return true;
      });
    });
  }

  it('asks Zapier for a new session when there is no token yet', async () => {
    await assert.rejects(appTester(App.authentication.test, { authData: authData() }), { name: 'RefreshAuthError' });
  });

  it('raises RefreshAuthError when the token stops verifying, and a new session works', async () => {
    const { access_token: old } = await appTester(getToken, { authData: authData() });
    const bundle = (token) => ({ authData: authData({ access_token: token }), inputData: {}, meta: {} });
    assert.ok(Array.isArray(await appTester(poll, bundle(old))));

    // Invalidate every token issued so far: sign with a new key, then remove
    // the key that signed them (what an operator does after a leak).
    const oldKid = server.credentials().active_kid;
    server.keys('rotate-signing-key');
    server.keys('remove-signing-key', oldKid);
    await waitUntil(async () => (await rawInboxStatus(server, old)) === 401, 'the old token to be refused');

    await assert.rejects(appTester(poll, bundle(old)), { name: 'RefreshAuthError' });
    await assert.rejects(appTester(App.authentication.test, bundle(old)), { name: 'RefreshAuthError' });

    // What Zapier does on RefreshAuthError: run sessionConfig.perform again
    // and retry with the new token.
    const { access_token: fresh } = await appTester(getToken, { authData: authData() });
    assert.notEqual(fresh, old);
    assert.ok(Array.isArray(await appTester(poll, bundle(fresh))));
    assert.equal((await appTester(App.authentication.test, bundle(fresh))).api_host, host);
  });
});

async function rawInboxStatus(server, token) {
  const res = await fetch(`${server.url}/inbox?limit=1`, { headers: { Authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

async function rawTokenStatus(server, key) {
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ api_key: key }),
  });
  await res.arrayBuffer();
  return res.status;
}

// waitUntil polls cond until it holds. The server re-reads credentials.json
// at most once a second, so a key change takes effect after a short while;
// the bound only keeps a broken server from hanging the suite.
async function waitUntil(cond, what) {
  for (let i = 0; i < 120; i++) {
    if (await cond()) {
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gave up waiting for ${what}`);
}
