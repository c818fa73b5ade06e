'use strict';

// "Find Event": GET /events/{id}. An unknown id finds nothing (an empty
// list, which Zapier shows as "nothing found"), rather than failing the step.

const baseurl = require('../lib/baseurl');
const { record, readJSON, pathID, FIELDS, SAMPLE } = require('../lib/events');
const { failure } = require('../lib/middleware');

async function perform(z, bundle) {
  const id = pathID((bundle.inputData || {}).id);
  if (id === '') {
    return [];
  }
  const base = baseurl.fromBundle(z, bundle);
  const response = await z.request({ url: `${base}/events/${id}`, skipThrowForStatus: true });
  if (response.status === 404) {
    return [];
  }
  if (response.status >= 400) {
    throw failure(z, bundle, response);
  }
  return [record(readJSON(z, response))];
}

module.exports = {
  key: 'find_event',
  noun: 'Event',
  display: {
    label: 'Find Event',
    description: 'Finds an event by its ID, whether it is still pending or already acknowledged.',
  },
  operation: {
    inputFields: [
      {
        key: 'id',
        label: 'Event ID',
        type: 'string',
        required: true,
        helpText: 'The ID of the event, such as `019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61`.',
      },
    ],
    perform,
    sample: SAMPLE,
    outputFields: FIELDS,
  },
};
