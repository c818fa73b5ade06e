'use strict';

// "New Event": a polling trigger on GET /inbox.

const inbox = require('../lib/inbox');
const { FIELDS, SAMPLE } = require('../lib/events');

async function perform(z, bundle) {
  const type = inbox.eventType(bundle);
  if (type.endsWith('*')) {
    // GET /inbox filters on an exact type. Filtering the newest page here
    // instead would silently miss matches behind 100 other events.
    throw new z.errors.Error(
      'New Event filters on an exact event type; for a prefix pattern such as order.* use New Event (Instant).',
      'invalid_event_type',
      400,
    );
  }
  return inbox.list(z, bundle, { type, limit: inbox.limitFor(bundle) });
}

module.exports = {
  key: 'new_event',
  noun: 'Event',
  display: {
    label: 'New Event',
    description: 'Triggers when a new event arrives in the Triggers inbox (checked on your Zap\'s polling schedule).',
  },
  operation: {
    type: 'polling',
    inputFields: [
      {
        key: 'event_type',
        label: 'Event Type',
        type: 'string',
        required: false,
        helpText:
          'Only trigger on events of exactly this type (e.g. `order.created`). Leave empty for every type.',
      },
    ],
    perform,
    sample: SAMPLE,
    outputFields: FIELDS,
  },
};
