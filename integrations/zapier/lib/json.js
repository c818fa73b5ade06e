'use strict';

// JSON without losing numbers. Triggers stores each payload byte for byte,
// so 12345678901234567890 or 0.1000000000000000000001 arrive as written;
// JSON.parse would silently round them to the nearest double. Responses are
// therefore parsed with lossless-json, which keeps every number's digits, and
// then turned into Zapier output in two forms:
//
//   - plain values, where a number that a double holds exactly becomes a
//     number and any other number becomes a string of its exact digits (a
//     Zap step maps values as text, so the digits are what matter);
//   - JSON text (payload_json), where every number is written as it came.

const {
  parse,
  stringify,
  isLosslessNumber,
  getUnsafeNumberReason,
} = require('lossless-json');

// Duplicate keys are legal JSON that parsers disagree on; Triggers keeps the
// bytes as sent. Like JSON.parse (and Go, and Python) the last one wins here,
// rather than failing a whole poll because one producer sent {"a":1,"a":2}.
const lastWins = ({ newValue }) => newValue;

function parseLossless(text) {
  return parse(text, null, { onDuplicateKey: lastWins });
}

// parseStrict is for JSON a Zap user typed: a duplicate key there is a
// mistake worth reporting, because only one of the values would be kept.
function parseStrict(text) {
  return parse(text);
}

// toPlain turns a lossless-json tree into plain values (see above).
function toPlain(value) {
  if (isLosslessNumber(value)) {
    const digits = value.toString();
    return getUnsafeNumberReason(digits) === undefined ? Number(digits) : digits;
  }
  if (Array.isArray(value)) {
    return value.map(toPlain);
  }
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value)) {
      // defineProperty, so a "__proto__" key stays an ordinary key.
      Object.defineProperty(out, key, {
        value: toPlain(value[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

// toText writes a lossless-json tree as compact JSON, numbers exactly as parsed.
function toText(value) {
  return stringify(value);
}

// isObject reports whether a parsed value is a JSON object.
function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !isLosslessNumber(value);
}

module.exports = { parseLossless, parseStrict, toPlain, toText, isObject };
