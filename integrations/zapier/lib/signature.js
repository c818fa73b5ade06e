'use strict';

// Standard Webhooks signature verification for pushed events (the scheme in
// docs/webhooks.md): webhook-signature carries one or more space-separated
// "v1,<base64 HMAC-SHA256>" entries over "<webhook-id>.<webhook-timestamp>.<raw
// body>", keyed by the bytes that the part of the subscription secret after
// "whsec_" base64-decodes to.

const crypto = require('crypto');

const SECRET_PREFIX = 'whsec_';

// headerMap lowercases header names and also files each "Http-Foo" header
// under "foo": Zapier hands a hook the request's headers renamed that way
// (Http-Webhook-Signature), a plain server does not.
function headerMap(headers) {
  const out = new Map();
  for (const [name, value] of Object.entries(headers || {})) {
    const lower = name.toLowerCase();
    const text = Array.isArray(value) ? value.join(' ') : String(value);
    out.set(lower, text);
    if (lower.startsWith('http-') && !out.has(lower.slice(5))) {
      out.set(lower.slice(5), text);
    }
  }
  return out;
}

// verify checks the signature of one delivery. It returns '' when one v1
// signature matches, else the reason it does not. It does not bound the
// timestamp: see docs/zapier.md ("Signature verification") for why.
function verify(secret, headers, content) {
  if (typeof secret !== 'string' || !secret.startsWith(SECRET_PREFIX)) {
    return 'the subscription secret is missing or not a whsec_ secret';
  }
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  if (key.length === 0) {
    return 'the subscription secret is empty';
  }
  if (typeof content !== 'string') {
    return 'the raw request body is not available';
  }
  const h = headerMap(headers);
  const id = h.get('webhook-id');
  const timestamp = h.get('webhook-timestamp');
  const signatures = h.get('webhook-signature');
  if (!id || !timestamp || !signatures) {
    return 'the request lacks the webhook-id, webhook-timestamp or webhook-signature header';
  }
  if (!/^\d{1,15}$/.test(timestamp)) {
    return 'webhook-timestamp is not a Unix time in seconds';
  }
  const expected = crypto
    .createHmac('sha256', key)
    .update(`${id}.${timestamp}.`, 'utf8')
    .update(content, 'utf8')
    .digest();
  for (const entry of signatures.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') {
      continue;
    }
    const given = Buffer.from(entry.slice(comma + 1), 'base64');
    if (given.length === expected.length && crypto.timingSafeEqual(given, expected)) {
      return '';
    }
  }
  return 'no v1 signature matches the body';
}

module.exports = { verify, headerMap };
