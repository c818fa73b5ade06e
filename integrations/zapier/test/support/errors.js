'use strict';

// appError reads a z.errors.Error thrown through the app tester. Its message
// is JSON {"message","code","status"} (zapier-platform-core's AppError).
function appError(err) {
  assert(err && err.name === 'AppError', `got ${err && err.name}: ${err && err.message}, want AppError`);
  return JSON.parse(err.message);
}

function assert(cond, msg) {
  if (!cond) {
    throw new Error(msg);
  }
}

module.exports = { appError };
