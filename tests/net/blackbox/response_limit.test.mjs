// One request's response is bounded: prompts x max(n, best_of) x
// max_tokens (capped by the context) x (1 + logprobs alternatives) may not
// pass max_response_tokens. Past it every protocol answers 400
// response_too_large before generating anything.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { startServer } from './lib/server.mjs';
import { connect } from './lib/ws.mjs';

let server;
before(async () => { server = await startServer(['--max-response-tokens', '400']); });
after(async () => { await server?.stop(); });

async function post(path, body) {
  const r = await fetch(server.url + path, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

function assertTooLarge(r, what) {
  assert.equal(r.status, 400, what);
  assert.equal(r.json.error.code, 'response_too_large', what);
  assert.match(r.json.error.message, /400/, what);
}

test('completions: n x max_tokens x (1 + logprobs) up to the limit is served, past it 400', async () => {
  assert.equal((await post('/v1/completions', { prompt: 'Once', n: 2, max_tokens: 50, logprobs: 3 })).status, 200);
  assertTooLarge(await post('/v1/completions', { prompt: 'Once', n: 2, max_tokens: 50, logprobs: 4 }), 'logprobs');
  assertTooLarge(await post('/v1/completions', { prompt: 'Once', n: 1, best_of: 3, max_tokens: 150 }), 'best_of');
  assertTooLarge(await post('/v1/completions', { prompt: ['Once', 'Upon'], max_tokens: 201 }), 'two prompts');
  assertTooLarge(await post('/v1/completions', { prompt: 'Once', max_tokens: 100, n: 5, stream: true }), 'stream');
});

test('chat: n x max_tokens x (1 + top_logprobs)', async () => {
  const messages = [{ role: 'user', content: 'Hi' }];
  assert.equal((await post('/v1/chat/completions', { messages, n: 4, max_tokens: 100 })).status, 200);
  assertTooLarge(await post('/v1/chat/completions', { messages, n: 5, max_tokens: 100 }), 'n');
  assertTooLarge(await post('/v1/chat/completions', { messages, max_tokens: 100, logprobs: true, top_logprobs: 4 }), 'top_logprobs');
});

test('Responses: max_output_tokens', async () => {
  assert.equal((await post('/v1/responses', { input: 'Hi', max_output_tokens: 300 })).status, 200);
  assertTooLarge(await post('/v1/responses', { input: 'Hi', max_output_tokens: 450 }), 'max_output_tokens');
});

test('WebSocket /v1/stream: an error frame', async () => {
  const c = await connect(server.url);
  const r = await c.generate('big', { prompt: 'Once', n: 5, max_tokens: 100 });
  assert.equal(r.error?.error.code, 'response_too_large');
  const ok = await c.generate('fine', { prompt: 'Once', n: 4, max_tokens: 100 });
  assert.equal(ok.done?.finish_reason, 'length');
  await c.close();
});

test('WebSocket /v1/responses: an error event', async () => {
  const ws = new WebSocket(server.url.replace('http://', 'ws://') + '/v1/responses');
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const event = new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
  ws.send(JSON.stringify({ type: 'response.create', input: 'Hi', max_output_tokens: 450 }));
  const e = await event;
  assert.equal(e.type, 'error');
  assert.equal(e.error?.code ?? e.code, 'response_too_large');
  ws.close();
});
