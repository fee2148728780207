// A web page the user visits must not reach a server on their loopback
// address: a rebound DNS name (a Host header that is not ours) gets 421, a
// cross-site "simple" POST (text/plain or a form, which a browser sends
// without asking first) gets 415. And HTTP details a page or a proxy may
// send: a lower-case bearer scheme, absolute-form targets, transfer codings
// the server does not speak.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { rawRequest } from './lib/raw_http.mjs';
import { startServer } from './lib/server.mjs';

let server;
before(async () => { server = await startServer(['--api-key', 'k3y', '--allowed-hosts', 'pagedserve.test']); });
after(async () => { await server?.stop(); });

const body = JSON.stringify({ prompt: 'Once', max_tokens: 2 });

// Raw request bytes (fetch sets Host itself).
const raw = (text) => rawRequest(server.port, text);

function post(target, { host = `127.0.0.1:${server.port}`, headers = '' } = {}) {
  return raw(`POST ${target} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer k3y\r\nContent-Type: application/json\r\n`
    + `${headers}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
}

test('a Host header that is not the loopback address or an allowed name gets 421 with a JSON error', async () => {
  for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1.evil.example:${server.port}`]) {
    const r = await post('/v1/completions', { host });
    assert.equal(r.status, 421, host);
    assert.equal(r.json.error.code, 'host_not_allowed', host);
  }
  const health = await raw(`GET /health HTTP/1.1\r\nHost: evil.example:${server.port}\r\nConnection: close\r\n\r\n`);
  assert.equal(health.status, 421);
  for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `[::1]:${server.port}`, 'localhost',
    `pagedserve.test:${server.port}`, `LOCALHOST:${server.port}`]) {
    assert.equal((await post('/v1/completions', { host })).status, 200, host);
  }
});

test('a cross-site simple POST (text/plain, a form) to a JSON route gets 415', async () => {
  for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x']) {
    const r = await fetch(`${server.url}/v1/completions`, {
      method: 'POST', headers: { 'Content-Type': type, Authorization: 'Bearer k3y' }, body,
    });
    assert.equal(r.status, 415, type);
    assert.equal((await r.json()).error.code, 'unsupported_media_type', type);
  }
  const json = await fetch(`${server.url}/v1/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer k3y' }, body,
  });
  assert.equal(json.status, 200);
});

test('the Bearer scheme is case-insensitive', async () => {
  for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
    const r = await fetch(`${server.url}/v1/models`, { headers: { Authorization: `${scheme} k3y` } });
    assert.equal(r.status, 200, scheme);
  }
  const wrong = await fetch(`${server.url}/v1/models`, { headers: { Authorization: 'bearer nope' } });
  assert.equal(wrong.status, 401);
});

test('an absolute-form request target is routed like its path', async () => {
  const r = await post(`http://127.0.0.1:${server.port}/v1/completions`);
  assert.equal(r.status, 200);
  assert.equal(r.json.object, 'text_completion');
  const evil = await post(`http://evil.example:${server.port}/v1/completions`);
  assert.equal(evil.status, 421);
});

test('a transfer coding other than chunked gets 501', async () => {
  const chunk = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  for (const [coding, bytes] of [['gzip', body], ['identity', body], ['gzip, chunked', chunk]]) {
    const r = await raw(`POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer k3y\r\n`
      + `Content-Type: application/json\r\nTransfer-Encoding: ${coding}\r\nConnection: close\r\n\r\n${bytes}`);
    assert.equal(r.status, 501, coding);
    assert.equal(r.json.error.code, 'unsupported_transfer_encoding', coding);
  }
  const chunked = await raw(`POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer k3y\r\n`
    + `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk}`);
  assert.equal(chunked.status, 200);
});

test('a WebSocket opened by a page of another site gets 403; one from the server\'s own origin is let in', async () => {
  const { default: WebSocket } = await import('ws');
  const open = (origin) => new Promise((resolve) => {
    const ws = new WebSocket(`${server.url.replace('http://', 'ws://')}/v1/stream`,
      { origin, headers: { Authorization: 'Bearer k3y' } });
    ws.once('open', () => { ws.close(); resolve(101); });
    ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode); ws.terminate(); });
    ws.once('error', () => {});
  });
  assert.equal(await open('https://evil.example'), 403);
  assert.equal(await open('null'), 403);
  assert.equal(await open(server.url), 101);
});
