'use strict';

// Preloaded with `node --require` to prove that loading and validating the
// app needs no network: every way Node opens a connection or resolves a name
// throws instead.

const dns = require('dns');
const net = require('net');
const tls = require('tls');
const http = require('http');
const https = require('https');

function refuse(what) {
  return () => {
    throw new Error(`network access attempted (${what}) while the network is forbidden`);
  };
}

net.Socket.prototype.connect = refuse('net.Socket.connect');
net.connect = refuse('net.connect');
net.createConnection = refuse('net.createConnection');
tls.connect = refuse('tls.connect');
http.request = refuse('http.request');
http.get = refuse('http.get');
https.request = refuse('https.request');
https.get = refuse('https.get');
dns.lookup = refuse('dns.lookup');
dns.resolve = refuse('dns.resolve');
dns.promises.lookup = refuse('dns.promises.lookup');
globalThis.fetch = refuse('fetch');
