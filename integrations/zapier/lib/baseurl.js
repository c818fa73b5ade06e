'use strict';

// The connection's api_url is typed by a person, so it is checked and put in
// one canonical form before any request uses it: an absolute https URL (http
// only for a loopback host, which Zapier itself can never reach, so only
// local development and the tests use it), no user:password@, no query, no
// fragment, no trailing slash. A path prefix is kept: an API Gateway stage
// such as https://abc123.execute-api.eu-west-1.amazonaws.com/prod is a base.

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

function isLoopback(hostname) {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

// problem returns why raw is not a usable base URL, or '' when it is.
function problem(raw) {
  if (typeof raw !== 'string' || raw.trim() === '') {
    return 'is required';
  }
  let u;
  try {
    u = new URL(raw.trim());
  } catch (_e) {
    return 'is not a URL; enter the address of your Triggers deployment, such as https://triggers.example.com';
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(u.hostname))) {
    return 'must start with https:// (the API key and tokens must not travel in clear text)';
  }
  if (u.username || u.password) {
    return 'must not contain a user name or password; put the API key in the API Key field';
  }
  if (u.search || raw.includes('?')) {
    return 'must not have a query string (?...)';
  }
  if (u.hash || raw.includes('#')) {
    return 'must not have a fragment (#...)';
  }
  return '';
}

// normalize returns the canonical base URL for raw, or throws a z.errors.Error
// that says what is wrong with it (never echoing it: a pasted URL may carry
// credentials).
function normalize(z, raw) {
  const why = problem(raw);
  if (why) {
    throw new z.errors.Error(`The API URL ${why}.`, 'invalid_api_url', 400);
  }
  const u = new URL(raw.trim());
  return u.origin + u.pathname.replace(/\/+$/, '');
}

// fromBundle is the canonical base URL of the connection in bundle.
function fromBundle(z, bundle) {
  return normalize(z, (bundle.authData || {}).api_url);
}

module.exports = { normalize, fromBundle, problem };
