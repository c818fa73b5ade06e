'use strict';

// The Zapier app definition of Triggers. See README.md for pushing it and
// docs/zapier.md (at the repository root) for the design.

const { version: platformVersion } = require('zapier-platform-core');

const { version } = require('./package.json');
const authentication = require('./lib/authentication');
const { addBearer, handleErrors } = require('./lib/middleware');
const newEvent = require('./triggers/new_event');
const newEventInstant = require('./triggers/new_event_instant');
const sendEvent = require('./creates/send_event');
const ackEvent = require('./creates/ack_event');
const findEvent = require('./searches/find_event');

module.exports = {
  version,
  platformVersion,

  authentication,
  beforeRequest: [addBearer],
  afterResponse: [handleErrors],

  triggers: {
    [newEvent.key]: newEvent,
    [newEventInstant.key]: newEventInstant,
  },
  creates: {
    [sendEvent.key]: sendEvent,
    [ackEvent.key]: ackEvent,
  },
  searches: {
    [findEvent.key]: findEvent,
  },
};
