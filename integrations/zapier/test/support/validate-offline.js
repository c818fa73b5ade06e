'use strict';

// Run under test/support/no-network.js: loads the app, runs
// zapier-platform-core's own "validate" command (what `zapier-platform
// validate` runs locally), serialises the definition as Zapier receives it
// on push, validates that with zapier-platform-schema, and prints a JSON
// report on stdout.

const zapier = require('zapier-platform-core');
const schema = require('zapier-platform-schema');
const App = require('../../index');

const handler = zapier.createAppHandler(App);
const run = (command) =>
  new Promise((resolve, reject) => {
    handler({ command, bundle: {}, calledFromCli: true }, {}, (err, out) => (err ? reject(err) : resolve(out.results)));
  });

(async () => {
  const coreErrors = await run('validate');
  const definition = await run('definition');
  const schemaErrors = schema.validateAppDefinition(definition).errors.map((e) => e.stack || e.message);
  process.stdout.write(JSON.stringify({ coreErrors, schemaErrors, definition }));
})().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
