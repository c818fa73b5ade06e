'use strict';

// "Acknowledge Event": POST /inbox/{id}/ack. An acknowledged event leaves
// the inbox, so New Event never returns it again; acknowledging twice is
// harmless.

const baseurl = require('../lib/baseurl');
const { record, readJSON, pathID, FIELDS, SAMPLE } = require('../lib/events');

async function perform(z, bundle) {
  const input = bundle.inputData || {};
  const id = pathID(input.id);
  if (id === '') {
    throw new z.errors.Error('Event ID is required: map the ID of the event to acknowledge.', 'not_found', 404);
  }
  const base = baseurl.fromBundle(z, bundle);
  const response = await z.request({ url: `${base}/inbox/${id}/ack`, method: 'POST' });
  return record(readJSON(z, response));
}

module.exports = {
  key: 'ack_event',
  noun: 'Event',
  display: {
    label: 'Acknowledge Event',
    description:
      'Marks an event as delivered so it leaves the inbox. Add it as the last step of a Zap that starts with New Event.',
  },
  operation: {
    inputFields: [
      {
        key: 'id',
        label: 'Event ID',
        type: 'string',
        required: true,
        helpText: 'The ID of the event to acknowledge, usually mapped from the trigger step.',
      },
    ],
    perform,
    sample: { ...SAMPLE, status: 'delivered', updated_at: '2026-11-28T10:00:05Z' },
    outputFields: FIELDS,
  },
};
