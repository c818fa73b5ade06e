'use strict';

// Error mapping and token scoping, through zapier-platform-core's real
// middleware chain, against a small local server that answers the way the
// AWS deployment's API Gateway, a broken proxy or a struggling server would.
// (The real single binary is exercised by the other suites; API Gateway's
// own answers cannot be produced by it, so they are reproduced here.)

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('http');
const zapier = require('zapier-platform-core');

const App = require('../index');
const { appError } = require('./support/errors');

const appTester = zapier.createAppTester(App);
const poll = App.triggers.new_event.operation.perform;
const find = App.searches.find_event.operation.perform;

const ACCESS_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.e30.c2VjcmV0LXRva2Vu';
const API_KEY = 'trg_abc123_secretsecretsecret';

// Each case is a path prefix: api_url = <server>/<case>.
// pages serves GET /pages/inbox like a store that answers short pages: the
// newest events first, then more behind X-Next-Cursor. "endless" never ends.
function pages(req, res) {
  const u = new URL(req.url, 'http://x');
  const cursor = u.searchParams.get('cursor');
  const ev = (n) => ({
    id: `019ac9f1-5a00-7c3e-9d2a-${String(n).padStart(12, '0')}`,
    type: u.searchParams.get('type') || 'any',
    source: 's',
    payload: { n },
    status: 'pending',
    created_at: '2026-11-28T10:00:00Z',
    updated_at: '2026-11-28T10:00:00Z',
  });
  let body;
  let next = '';
  if (u.searchParams.get('type') === 'endless') {
    const n = cursor ? Number(cursor) : 1000;
    body = [ev(n)];
    next = String(n - 1);
  } else if (!cursor) {
    body = [ev(5), ev(4)];
    next = 'c1';
  } else if (cursor === 'c1') {
    body = [ev(4), ev(3)]; // an overlap must not duplicate an event
    next = 'c2';
  } else {
    body = [ev(2)];
  }
  res.writeHead(200, { 'Content-Type': 'application/json', ...(next ? { 'X-Next-Cursor': next } : {}) });
  res.end(JSON.stringify(body));
}

const CASES = {
  'aws-403': { status: 403, type: 'application/json', body: '{"message":"Forbidden"}' },
  'aws-401': { status: 401, type: 'application/json', body: '{"message":"Unauthorized"}' },
  'problem-403': {
    status: 403,
    type: 'application/problem+json',
    body: '{"type":"/problems/forbidden","title":"Forbidden","status":403,"detail":"this token lacks the \\"inbox:read\\" scope that this route requires","code":"forbidden"}',
  },
  'problem-500': {
    status: 500,
    type: 'application/problem+json',
    headers: { 'X-Request-Id': 'req-42' },
    body: '{"type":"/problems/internal","title":"Internal Server Error","status":500,"detail":"The server could not complete the request.","code":"internal"}',
  },
  'problem-503': {
    status: 503,
    type: 'application/problem+json',
    headers: { 'Retry-After': '7' },
    body: '{"type":"/problems/unavailable","title":"Service Unavailable","status":503,"detail":"the store is throttling; retry later","code":"unavailable"}',
  },
  'rate-429': { status: 429, type: 'application/problem+json', headers: { 'Retry-After': '3' }, body: '{"code":"rate_limited","detail":"slow down"}' },
  'html-502': { status: 502, type: 'text/html', body: '<html><body>Bad Gateway</body></html>' },
  'html-200': { status: 200, type: 'text/html', body: '<html><body>Welcome to nginx</body></html>' },
  'aws-404': { status: 404, type: 'application/json', body: '{"message":"Not Found"}' },
  ok: { status: 200, type: 'application/json', body: '[]' },
};

function listen(handler) {
  return new Promise((resolve) => {
    const s = http.createServer(handler);
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

describe('error mapping and token scoping', () => {
  let server;
  let other;
  let base;
  const seen = []; // { url, authorization } of every request

  before(async () => {
    server = await listen((req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization });
      const name = req.url.split('/')[1];
      if (name === 'pages') {
        pages(req, res);
        return;
      }
      const c = CASES[name];
      if (!c) {
        res.writeHead(500).end();
        return;
      }
      res.writeHead(c.status, { 'Content-Type': c.type, ...(c.headers || {}) });
      res.end(c.body);
    });
    other = await listen((req, res) => {
      seen.push({ url: `other:${req.url}`, authorization: req.headers.authorization });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => {
    server.close();
    other.close();
  });

  const bundle = (name, inputData = {}) => ({
    authData: { api_url: `${base}/${name}`, api_key: API_KEY, access_token: ACCESS_TOKEN },
    inputData,
    meta: {},
  });

  // noSecrets checks an error carries neither the API key nor the token.
  const noSecrets = (err) => {
    assert.ok(!err.message.includes(API_KEY), 'error contains the API key');
    assert.ok(!err.message.includes(ACCESS_TOKEN), 'error contains the access token');
  };

  it("treats API Gateway's 403 {\"message\":\"Forbidden\"} (the AWS authorizer's denial) as a stale token", async () => {
    await assert.rejects(appTester(poll, bundle('aws-403')), { name: 'RefreshAuthError' });
  });

  it('treats any 401 as a stale token', async () => {
    await assert.rejects(appTester(poll, bundle('aws-401')), { name: 'RefreshAuthError' });
    // Also where the operation handles statuses itself.
    await assert.rejects(appTester(find, bundle('aws-401', { id: 'x' })), { name: 'RefreshAuthError' });
    await assert.rejects(appTester(find, bundle('aws-403', { id: 'x' })), { name: 'RefreshAuthError' });
  });

  it('reports a 403 problem (missing scope) as a readable error, not a refresh', async () => {
    await assert.rejects(appTester(poll, bundle('problem-403')), (err) => {
      const e = appError(err);
      assert.equal(e.code, 'forbidden');
      assert.equal(e.status, 403);
      assert.match(e.message, /lacks the "inbox:read" scope/);
      noSecrets(err);
      return true;
    });
  });

  it('quotes the request id of a 500', async () => {
    await assert.rejects(appTester(poll, bundle('problem-500')), (err) => {
      const e = appError(err);
      assert.equal(e.code, 'internal');
      assert.match(e.message, /request id req-42/);
      noSecrets(err);
      return true;
    });
  });

  it('asks Zapier to retry a 503 later, with its Retry-After', async () => {
    await assert.rejects(appTester(poll, bundle('problem-503')), (err) => {
      assert.equal(err.name, 'ThrottledError');
      const e = JSON.parse(err.message);
      assert.equal(e.delay, 7);
      assert.match(e.message, /the store is throttling/);
      return true;
    });
  });

  it('lets Zapier throttle on a 429', async () => {
    await assert.rejects(appTester(poll, bundle('rate-429')), (err) => {
      assert.equal(err.name, 'ThrottledError');
      assert.equal(JSON.parse(err.message).delay, 3);
      return true;
    });
  });

  it('describes a non-JSON error page without dumping it', async () => {
    await assert.rejects(appTester(poll, bundle('html-502')), (err) => {
      const e = appError(err);
      assert.equal(e.code, 'http_502');
      assert.match(e.message, /^GET \/html-502\/inbox on 127\.0\.0\.1:\d+ failed with HTTP 502\.$/);
      return true;
    });
  });

  it('says the API URL looks wrong when a 404 is not ours or a 200 is not JSON', async () => {
    await assert.rejects(appTester(poll, bundle('aws-404')), (err) => {
      assert.match(appError(err).message, /Check that the API URL/);
      return true;
    });
    await assert.rejects(appTester(poll, bundle('html-200')), (err) => {
      const e = appError(err);
      assert.equal(e.code, 'unexpected_response');
      assert.match(e.message, /Expected JSON from GET \/html-200\/inbox .* but got text\/html/);
      return true;
    });
  });

  it('follows short pages to fill a poll, newest first, without duplicates', async () => {
    seen.length = 0;
    const out = await appTester(poll, bundle('pages', { event_type: 'order.created' }));
    assert.deepEqual(out.map((e) => e.payload.n), [5, 4, 3, 2]);
    const queries = seen.map((s) => new URL(s.url, 'http://x').searchParams);
    assert.deepEqual(queries.map((q) => q.get('cursor')), [null, 'c1', 'c2']);
    for (const q of queries) {
      assert.equal(q.get('type'), 'order.created');
      assert.equal(q.get('limit'), '100');
    }
  });

  it('stops following pages after a few requests, and at the sample size', async () => {
    seen.length = 0;
    const out = await appTester(poll, bundle('pages', { event_type: 'endless' }));
    assert.equal(out.length, 5);
    assert.equal(seen.length, 5);

    seen.length = 0;
    const sample = await appTester(poll, { ...bundle('pages', { event_type: 'endless' }), meta: { isLoadingSample: true } });
    assert.equal(sample.length, 3);
    assert.equal(seen.length, 3);
  });

  it('sends the bearer token to the deployment only, and never to /token', async () => {
    seen.length = 0;
    await appTester(poll, bundle('ok'));
    await appTester(
      async (z, b) => {
        await z.request({ url: `http://127.0.0.1:${other.address().port}/elsewhere` });
        await z.request({ url: `${base}/okay-but-not-under-base` }).catch(() => {});
        return z.request({ url: `${b.authData.api_url}/token`, method: 'POST', json: {} }).catch(() => {});
      },
      bundle('ok'),
    );
    const byURL = Object.fromEntries(seen.map((s) => [s.url.split('?')[0], s.authorization]));
    assert.equal(byURL['/ok/inbox'], `Bearer ${ACCESS_TOKEN}`);
    assert.equal(byURL['other:/elsewhere'], undefined);
    assert.equal(byURL['/okay-but-not-under-base'], undefined);
    assert.equal(byURL['/ok/token'], undefined);
  });
});
