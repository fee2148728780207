// A `vllm serve` command line with pagedserve in its place: the model as a
// positional argument, --api-key guarding every /v1 route (the OpenAI SDK
// with and without the key, the WebSocket upgrade), --served-model-name,
// --max-model-len and --no-enable-prefix-caching; /health and /metrics stay
// open; CORS only for --allowed-origins.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { metrics, sample, startServer } from './lib/server.mjs';
import { connect } from './lib/ws.mjs';

const key = 'sk-pagedserve-test';
let server;

before(async () => {
  server = await startServer(['--api-key', key, '--served-model-name', 'my-model', '--max-model-len', '64',
    '--no-enable-prefix-caching', '--allowed-origins', 'https://app.example'], { positional: true });
});
after(async () => { await server?.stop(); });

const client = (apiKey) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });

test('with the key the SDK sees the served name and the max model length', async () => {
  const list = await client(key).models.list();
  assert.equal(list.data[0].id, 'my-model');
  assert.equal(list.data[0].max_model_len, 64);
  const r = await client(key).completions.create({ model: 'my-model', prompt: 'Once upon a time', max_tokens: 5, temperature: 0 });
  assert.equal(r.model, 'my-model');
  assert.equal(r.usage.completion_tokens, 5);
  const chat = await client(key).chat.completions.create({
    model: 'my-model', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3, temperature: 0,
  });
  assert.equal(chat.usage.completion_tokens, 3);
});

test('without the key or with a wrong one every /v1 route is 401 with an OpenAI error', async () => {
  for (const apiKey of ['wrong', '']) {
    await assert.rejects(client(apiKey).completions.create({ model: 'my-model', prompt: 'x', max_tokens: 1 }),
      (e) => e instanceof OpenAI.AuthenticationError && e.status === 401 && e.code === 'invalid_api_key');
    await assert.rejects(client(apiKey).models.list(), (e) => e.status === 401);
  }
  const r = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), 'Bearer');
  assert.equal((await r.json()).error.type, 'authentication_error');
});

test('/health and /metrics stay open', async () => {
  assert.equal((await fetch(`${server.url}/health`)).status, 200);
  assert.equal((await fetch(`${server.url}/metrics`)).status, 200);
});

test('the WebSocket upgrade needs the key too', async () => {
  await assert.rejects(connect(server.url), /401/);
  await assert.rejects(connect(server.url, { headers: { Authorization: 'Bearer wrong' } }), /401/);
  const s = await connect(server.url, { headers: { Authorization: `Bearer ${key}` } });
  const r = await s.generate('w', { prompt: 'Once upon a time', max_tokens: 4, temperature: 0 });
  assert.equal(r.done.usage.completion_tokens, 4);
  await s.close();
});

test('--no-enable-prefix-caching: a repeated prompt hits no cached block', async () => {
  const prompt = 'Once upon a time there was a little girl who liked to play in the park with her friends';
  for (let i = 0; i < 2; ++i)
    await client(key).completions.create({ model: 'my-model', prompt, max_tokens: 2, temperature: 0 });
  assert.equal(sample(await metrics(server.url), 'pagedserve_prefix_cache_hits_total'), 0);
});

test('CORS answers the allowed origin only, preflight included', async () => {
  const origin = 'https://app.example';
  const pre = await fetch(`${server.url}/v1/completions`, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), origin);
  assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
  assert.equal(pre.headers.get('access-control-allow-headers'), 'authorization,content-type');
  const ok = await fetch(`${server.url}/v1/models`, { headers: { Origin: origin, Authorization: `Bearer ${key}` } });
  assert.equal(ok.headers.get('access-control-allow-origin'), origin);
  const refused = await fetch(`${server.url}/v1/models`, { headers: { Origin: origin } });
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get('access-control-allow-origin'), origin);  // so the page can read the error
  const other = await fetch(`${server.url}/v1/models`, { headers: { Origin: 'https://evil.example', Authorization: `Bearer ${key}` } });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  const otherPre = await fetch(`${server.url}/v1/completions`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example' } });
  assert.equal(otherPre.status, 405);
});

test('the key may come from $VLLM_API_KEY instead of the command line', async () => {
  const env = await startServer([], { env: { VLLM_API_KEY: 'from-env' } });
  try {
    assert.equal((await fetch(`${env.url}/v1/models`)).status, 401);
    assert.equal((await fetch(`${env.url}/v1/models`, { headers: { Authorization: 'Bearer from-env' } })).status, 200);
  } finally { await env.stop(); }
});

test('without a key on a non-loopback address the server warns; without --allowed-origins no CORS header', async () => {
  const plain = await startServer(['--host', '0.0.0.0']);
  try {
    const r = await fetch(`${plain.url}/v1/models`, { headers: { Origin: 'https://app.example' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    assert.match(plain.log(), /level=warning msg="no API key/);
  } finally { await plain.stop(); }
});
