'use strict';

// HTTP middleware for every request the app makes.

const baseurl = require('./baseurl');
const { describe } = require('./events');

// tokenURL is where sessionConfig.perform exchanges the API key.
function tokenURL(base) {
  return `${base}/token`;
}

// belongsTo reports whether url is under base, so the bearer token is only
// ever sent to the deployment that issued it.
function belongsTo(url, base) {
  return url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`);
}

// addBearer adds Authorization: Bearer <access_token> to requests for the
// connection's deployment (not to the token exchange itself, and never to
// another host).
function addBearer(request, z, bundle) {
  request.headers = request.headers || {};
  if (!request.headers.Accept && !request.headers.accept) {
    request.headers.Accept = 'application/json, application/problem+json';
  }
  const auth = bundle.authData || {};
  if (!auth.access_token || !auth.api_url || typeof request.url !== 'string') {
    return request;
  }
  let base;
  try {
    base = baseurl.normalize(z, auth.api_url);
  } catch (_e) {
    return request; // the operation itself reports the bad URL
  }
  if (belongsTo(request.url, base) && request.url !== tokenURL(base)) {
    request.headers.Authorization = `Bearer ${auth.access_token}`;
  }
  return request;
}

const PROBLEM_TYPE = 'application/problem+json';

// problemOf returns the RFC 9457 problem in a response, or null when the
// body is not one (API Gateway's own answers, a proxy's HTML page).
function problemOf(response) {
  const type = (response.headers.get('content-type') || '').toLowerCase();
  let body;
  try {
    body = JSON.parse(response.content);
  } catch (_e) {
    return null;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return null;
  }
  const looksLikeProblem = typeof body.code === 'string' && typeof body.detail === 'string';
  return type.startsWith(PROBLEM_TYPE) || looksLikeProblem ? body : null;
}

// problemMessage is the readable text of a problem: the field errors of a
// 422 as "body.payload: payload must be a JSON object", else detail.
function problemMessage(p) {
  if (Array.isArray(p.errors) && p.errors.length > 0) {
    const parts = p.errors
      .filter((e) => e && typeof e.msg === 'string')
      .map((e) => (Array.isArray(e.loc) && e.loc.length > 0 ? `${e.loc.join('.')}: ${e.msg}` : e.msg));
    if (parts.length > 0) {
      return parts.join('; ');
    }
  }
  if (typeof p.detail === 'string' && p.detail !== '') {
    return p.detail;
  }
  return typeof p.title === 'string' ? p.title : 'request failed';
}

// retryAfter reads a Retry-After header in seconds, null when absent or a date.
function retryAfter(response) {
  const v = response.headers.get('retry-after');
  const n = v === null || v === undefined ? NaN : Number.parseInt(v, 10);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

// isStaleAuth reports whether a response means "this token is no longer
// good": any 401, and a 403 that is not one of our problem documents. The
// second is the AWS deployment: its Lambda authorizer denies an expired or
// revoked token and API Gateway answers 403 {"message":"Forbidden"} without
// ever reaching our handlers. A 403 problem (code "forbidden") comes from
// our handlers and means the key lacks a scope: refreshing cannot fix that.
function isStaleAuth(response, problem) {
  return response.status === 401 || (response.status === 403 && problem === null);
}

// errorFor builds the error to throw for a failed response. It never
// includes the request's headers or body, so no secret can leak into it.
function errorFor(z, response) {
  const status = response.status;
  const problem = problemOf(response);
  const where = describe(response);
  if (problem !== null) {
    let message = `${problemMessage(problem)} (${where}: HTTP ${status}, code ${problem.code || 'unknown'})`;
    const requestID = response.headers.get('x-request-id');
    if (status >= 500 && requestID) {
      message += `. Quote request id ${requestID} when reporting this.`;
    }
    if (status === 503) {
      return new z.errors.ThrottledError(message, retryAfter(response));
    }
    return new z.errors.Error(message, problem.code || `http_${status}`, status);
  }
  let hint = '';
  if (status === 404) {
    hint = ' Check that the API URL of this connection is the base URL of your Triggers deployment.';
  }
  if (status === 503) {
    return new z.errors.ThrottledError(`${where} is unavailable (HTTP 503).`, retryAfter(response));
  }
  return new z.errors.Error(`${where} failed with HTTP ${status}.${hint}`, `http_${status}`, status);
}

// handleErrors is the afterResponse middleware: stale credentials become
// RefreshAuthError (Zapier then runs sessionConfig.perform for a new token
// and retries), other failures become readable errors. A request made with
// skipThrowForStatus handles its own statuses (Find Event's 404).
//
// zapier-platform-core already raises RefreshAuthError for a 401 before this
// runs, for session auth; the rule is repeated here so the whole mapping is
// in one place and the AWS 403 case sits next to it.
function handleErrors(response, z, bundle) {
  if (response.status < 400 || response.skipThrowForStatus) {
    return response;
  }
  throw failure(z, bundle, response);
}

// failure is the error for a failed response, stale credentials included.
// Operations that pass skipThrowForStatus call it for the statuses they do
// not handle themselves.
function failure(z, bundle, response) {
  const base = safeBase(z, bundle);
  const isTokenExchange = base !== null && response.request && response.request.url === tokenURL(base);
  if (!isTokenExchange && isStaleAuth(response, problemOf(response))) {
    return new z.errors.RefreshAuthError('The access token was refused; getting a new one with the API key.');
  }
  return errorFor(z, response);
}

function safeBase(z, bundle) {
  try {
    return baseurl.normalize(z, (bundle.authData || {}).api_url);
  } catch (_e) {
    return null;
  }
}

module.exports = {
  addBearer,
  handleErrors,
  failure,
  errorFor,
  problemOf,
  tokenURL,
};
