'use strict';

// Session authentication: the user enters the deployment's URL and an API
// key; Zapier stores them and calls sessionConfig.perform to exchange the key
// for a bearer token at POST /token. The token goes in every request (see
// middleware.addBearer). When it stops working (expired after the server's
// token TTL, or its signing key removed) the API answers 401 — or, on AWS,
// API Gateway answers 403 — and the app raises RefreshAuthError, on which
// Zapier calls sessionConfig.perform again and retries the step.

const baseurl = require('./baseurl');
const { readJSON } = require('./events');
const { tokenURL } = require('./middleware');

// keyID is the public id inside a generated key (trg_<id>_<secret>), shown in
// the connection label so people can tell which key a connection uses. An
// operator-chosen (legacy) key has no id and shows none.
function keyID(apiKey) {
  const m = /^trg_([A-Za-z0-9]+)_/.exec(apiKey || '');
  return m ? m[1] : '';
}

async function getSessionToken(z, bundle) {
  const base = baseurl.fromBundle(z, bundle);
  const apiKey = (bundle.authData.api_key || '').trim();
  if (apiKey === '') {
    throw new z.errors.Error('The API key is required.', 'missing_api_key', 400);
  }
  let response;
  try {
    response = await z.request({
      url: tokenURL(base),
      method: 'POST',
      json: { api_key: apiKey },
    });
  } catch (err) {
    // For session auth zapier-platform-core turns every 401 into
    // RefreshAuthError before our middleware sees it. Here a 401 can only
    // mean the key itself is wrong, and asking for yet another refresh would
    // loop: say so plainly instead.
    if (err instanceof z.errors.RefreshAuthError) {
      throw new z.errors.Error(
        `Triggers at ${new URL(base).host} rejected the API key (HTTP 401). ` +
          'Check that you pasted the whole key (generated keys start with trg_) and that it has not been revoked.',
        'invalid_api_key',
        401,
      );
    }
    throw err;
  }
  const body = readJSON(z, response);
  const token = body && typeof body.access_token === 'string' ? body.access_token : '';
  if (token === '') {
    throw new z.errors.Error(
      `POST /token on ${new URL(base).host} answered without an access_token; is the API URL a Triggers deployment?`,
      'unexpected_response',
      response.status,
    );
  }
  return { access_token: token };
}

// test proves the connection works with a cheap authenticated read, and
// returns what the connection label shows.
async function test(z, bundle) {
  const base = baseurl.fromBundle(z, bundle);
  const response = await z.request({ url: `${base}/inbox`, params: { limit: 1 } });
  const body = readJSON(z, response);
  if (!Array.isArray(body)) {
    throw new z.errors.Error(
      `GET /inbox on ${new URL(base).host} did not answer with a list of events; is the API URL a Triggers deployment?`,
      'unexpected_response',
      response.status,
    );
  }
  return { api_host: new URL(base).host, key_id: keyID(bundle.authData.api_key) };
}

// connectionLabel names the connection "triggers.example.com (key 9f3c2a1b7d4e)".
// Zapier passes the test's result as bundle.inputData; the connection's own
// fields are the fallback.
function connectionLabel(z, bundle) {
  const data = bundle.inputData || {};
  const auth = bundle.authData || {};
  let host = data.api_host || '';
  if (host === '' && !baseurl.problem(auth.api_url)) {
    host = new URL(baseurl.normalize(z, auth.api_url)).host;
  }
  const id = data.key_id || keyID(auth.api_key);
  return id ? `${host} (key ${id})` : host;
}

module.exports = {
  type: 'session',
  fields: [
    {
      key: 'api_url',
      label: 'API URL',
      type: 'string',
      required: true,
      helpText:
        'The base URL of your Triggers deployment: the URL `triggers serve` is reachable at ' +
        '(e.g. `https://triggers.example.com`), or on AWS the API Gateway URL including the stage ' +
        'if it has one (e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com`). Must be https.',
    },
    {
      key: 'api_key',
      label: 'API Key',
      type: 'password',
      required: true,
      helpText:
        'An API key of the deployment, such as one made with `triggers keys create --name zapier`. ' +
        'It needs the scopes of the steps you use: inbox:read (New Event), inbox:ack (Acknowledge Event), ' +
        'events:write (Send Event), subscriptions:manage (New Event (Instant)).',
    },
  ],
  sessionConfig: { perform: getSessionToken },
  test,
  connectionLabel,
};
