'use strict';

// A real `triggers serve` for the tests: the repository's binary on a free
// loopback port, a fresh data directory, and an API key the test chooses
// (TRIGGERS_API_KEY). Nothing is mocked: the app under test talks HTTP to it.
//
// The binary is ../../bin/triggers from this package (the root Makefile's
// `make build-cli` writes it); when it is absent it is built with `go build`.
// Any failure to build or start throws, so the suites fail loudly: a test run
// that silently skipped the server would prove nothing.

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const BIN = process.env.TRIGGERS_BIN || path.join(REPO, 'bin', 'triggers');

// STARTUP_LIMIT_MS bounds how long we wait for "listening on" before
// declaring the server broken; it is a guard against hanging forever, not a
// performance assertion.
const STARTUP_LIMIT_MS = 60000;

function ensureBinary() {
  if (fs.existsSync(BIN)) {
    return BIN;
  }
  if (process.env.TRIGGERS_BIN) {
    throw new Error(`TRIGGERS_BIN=${BIN} does not exist`);
  }
  // Build beside the target and rename, so two test files starting at once
  // never run a half-written binary.
  const tmp = `${BIN}.build-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  fs.mkdirSync(path.dirname(BIN), { recursive: true });
  try {
    execFileSync('go', ['build', '-o', tmp, './cmd/triggers'], {
      cwd: REPO,
      env: { ...process.env, CGO_ENABLED: '0' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  } catch (err) {
    throw new Error(
      `cannot build ${BIN} with "go build -o bin/triggers ./cmd/triggers" in ${REPO}: ${err.message}. ` +
        'Install Go or run `make build-cli` at the repository root first.',
    );
  }
  fs.renameSync(tmp, BIN);
  return BIN;
}

// start runs `triggers serve` and resolves once it listens. createKeys
// names API keys to create (`triggers keys create`) before the server starts,
// so they work from its first request; their plaintexts are in server.created.
async function start({
  apiKey = `zapier-test-${crypto.randomBytes(12).toString('hex')}`,
  args = [],
  env = {},
  createKeys = [],
} = {}) {
  const bin = ensureBinary();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-zapier-'));
  const keys = (...keyArgs) =>
    execFileSync(bin, ['keys', ...keyArgs, '--data', dataDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const created = {};
  for (const spec of createKeys) {
    const name = typeof spec === 'string' ? spec : spec.name;
    const extra = typeof spec === 'string' ? [] : spec.args || [];
    const out = keys('create', '--name', name, ...extra);
    const m = /(trg_([A-Za-z0-9]+)_\S+)/.exec(out);
    if (!m) {
      throw new Error(`triggers keys create printed no key: ${out}`);
    }
    created[name] = { key: m[1], id: m[2] };
  }
  const child = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data', dataDir, ...args], {
    env: { ...process.env, ...env, TRIGGERS_API_KEY: apiKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b) => {
    stderr = (stderr + b.toString()).slice(-20000);
  });
  let stdout = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`triggers serve did not say "listening on" within ${STARTUP_LIMIT_MS} ms.\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, STARTUP_LIMIT_MS);
    child.stdout.on('data', (b) => {
      stdout += b.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`triggers serve exited (code ${code}, signal ${signal}) before listening.\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${bin}: ${err.message}`));
    });
  });
  child.removeAllListeners('exit');

  const server = {
    url,
    apiKey,
    dataDir,
    created,
    logs: () => stderr,
    // keys runs `triggers keys ARGS --data DIR` and returns its stdout.
    keys,
    credentials: () => JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8')),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

// token gets a bearer token for apiKey straight from POST /token.
async function token(server, apiKey = server.apiKey) {
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ api_key: apiKey }),
  });
  if (res.status !== 200) {
    throw new Error(`POST /token: HTTP ${res.status}: ${await res.text()}`);
  }
  return (await res.json()).access_token;
}

// api makes one raw request, for setting up and checking state independently
// of the app under test. It returns { status, headers, text }.
async function api(server, accessToken, method, pathAndQuery, body, headers = {}) {
  const res = await fetch(`${server.url}${pathAndQuery}`, {
    method,
    headers: {
      Authorization: `Bearer ${accessToken}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

// sendEvent creates an event directly and returns its id.
async function sendEvent(server, accessToken, event) {
  const res = await api(server, accessToken, 'POST', '/events', event);
  if (res.status !== 201) {
    throw new Error(`POST /events: HTTP ${res.status}: ${res.text}`);
  }
  return JSON.parse(res.text).id;
}

// uniqueType is an event type no other test uses, so tests sharing one
// server's inbox can filter on their own events.
function uniqueType(prefix) {
  return `${prefix}.${crypto.randomBytes(6).toString('hex')}`;
}

module.exports = { start, token, api, sendEvent, uniqueType, ensureBinary };
