// Every kind of bad input gets the right status and an OpenAI-style error
// body {"error":{"message","type","param","code"}}, and the server goes on
// answering good requests.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { rawRequest } from './lib/raw_http.mjs';
import { startServer } from './lib/server.mjs';

let server;
before(async () => { server = await startServer(['--max-body-bytes', '65536', '--admin-token', 's3cret']); });
after(async () => { await server?.stop(); });

function checkErrorBody(body, what) {
  assert.equal(typeof body.error, 'object', what);
  assert.equal(typeof body.error.message, 'string', what);
  assert.ok(body.error.message.length > 0, what);
  assert.equal(typeof body.error.type, 'string', what);
  assert.ok('param' in body.error && 'code' in body.error, what);
  for (const k of ['param', 'code']) assert.ok(body.error[k] === null || typeof body.error[k] === 'string', what);
}

async function call(path, { method = 'POST', body, headers = {} } = {}) {
  const r = await fetch(server.url + path, {
    method, headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined || typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: (() => { try { return JSON.parse(text); } catch { return null; } })() };
}

// Raw bytes for what fetch will not send; the status line and body back.
const raw = (text) => rawRequest(server.port, text);

const completion = (body) => call('/v1/completions', { body });

test('malformed JSON, wrong types and out-of-range values are 400s naming the field', async () => {
  const cases = [
    ['{"prompt": "x",', null, 'invalid_json'],
    ['', null, 'invalid_json'],
    ['[1, 2]', null, 'invalid_json'],
    ['{"prompt": "\u0000\\ud800"}', null, null],
    [Buffer.from('{"prompt":"\xff\xfe"}', 'latin1'), null, 'invalid_json'],
    [`{"prompt":"x","n":${'['.repeat(5000)}${']'.repeat(5000)}}`, null, 'invalid_json'],
    ['{"prompt":"x","max_tokens":1e400}', null, 'invalid_json'],
    [{ prompt: 5 }, 'prompt'],
    [{ prompt: 'x', max_tokens: 'ten' }, 'max_tokens'],
    [{ prompt: 'x', max_tokens: -1 }, 'max_tokens'],
    [{ prompt: 'x', max_tokens: 1.5 }, 'max_tokens'],
    [{ prompt: 'x', temperature: 'hot' }, 'temperature'],
    [{ prompt: 'x', temperature: -0.5 }, 'temperature'],
    [{ prompt: 'x', top_p: 0 }, 'top_p'],
    [{ prompt: 'x', top_k: -5 }, 'top_k'],
    [{ prompt: 'x', n: 0 }, 'n'],
    [{ prompt: 'x', n: 1000 }, 'n'],
    [{ prompt: 'x', n: 2, best_of: 1 }, 'best_of'],
    [{ prompt: 'x', logprobs: 21 }, 'logprobs'],
    [{ prompt: 'x', stop: [1] }, 'stop'],
    [{ prompt: 'x', presence_penalty: 9 }, 'presence_penalty'],
    [{ prompt: 'x', stream: 'yes' }, 'stream'],
    [{ prompt: [] }, 'prompt'],
    [{ prompt: [1, -3] }, 'prompt'],
    [{ prompt: [1, 512] }, 'prompt'],
    [{ max_tokens: 4 }, 'prompt'],
    [{ prompt: 'x', logit_bias: { 1: 5 } }, 'logit_bias'],
  ];
  for (const [body, param, code] of cases) {
    const what = typeof body === 'object' && !Buffer.isBuffer(body) ? JSON.stringify(body) : String(body).slice(0, 60);
    const r = await completion(body);
    if (param === null && code === null) {  // a lone surrogate escape: valid JSON, a refused or served prompt
      assert.ok(r.status === 200 || r.status === 400, what);
      continue;
    }
    assert.equal(r.status, 400, what);
    assert.match(r.headers.get('content-type'), /application\/json/);
    checkErrorBody(r.json, what);
    assert.equal(r.json.error.type, 'invalid_request_error', what);
    if (param) assert.equal(r.json.error.param, param, what);
    if (code) assert.equal(r.json.error.code, code, what);
  }
});

test('chat requests are checked the same way', async () => {
  for (const [body, param] of [[{}, 'messages'], [{ messages: [] }, 'messages'],
    [{ messages: [{ role: 'pirate', content: 'arr' }] }, 'messages.role'],
    [{ messages: [{ role: 'user', content: 7 }] }, 'messages.content'],
    [{ messages: [{ role: 'user', content: 'x' }], top_logprobs: 2 }, 'top_logprobs'],
    [{ messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function' }] }, 'tools[0].function']]) {
    const r = await call('/v1/chat/completions', { body });
    assert.equal(r.status, 400, JSON.stringify(body));
    checkErrorBody(r.json);
    assert.equal(r.json.error.param, param);
  }
});

test('prompts longer than the model allows are 400 context_length_exceeded', async () => {
  for (const prompt of [Array(600).fill(5), 'Once upon a time '.repeat(200), 'x'.repeat(60000)]) {
    const r = await completion({ prompt, max_tokens: 4 });
    assert.equal(r.status, 400);
    checkErrorBody(r.json);
    assert.equal(r.json.error.code, 'context_length_exceeded');
    assert.equal(r.json.error.param, 'prompt');
  }
  // one too-long prompt in a list refuses the whole request
  const mixed = await completion({ prompt: ['fine', Array(600).fill(5)], max_tokens: 2 });
  assert.equal(mixed.status, 400);
});

test('unknown routes 404, wrong methods 405 with Allow, unknown models 404', async () => {
  const nf = await call('/v2/completions', { body: {} });
  assert.equal(nf.status, 404);
  checkErrorBody(nf.json);
  const get = await call('/v1/completions', { method: 'GET' });
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  checkErrorBody(get.json);
  const post = await call('/health', { method: 'POST', body: {} });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  const model = await completion({ model: 'gpt-4', prompt: 'x' });
  assert.equal(model.status, 404);
  assert.equal(model.json.error.code, 'model_not_found');
  const plainGet = await call('/v1/stream', { method: 'GET' });
  assert.equal(plainGet.status, 426);
  checkErrorBody(plainGet.json);
});

test('oversized bodies 413, oversized headers 431, overlong URLs 414', async () => {
  const big = await completion({ prompt: 'x'.repeat(70000) });
  assert.equal(big.status, 413);
  checkErrorBody(big.json);
  const headers = await raw(`GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'h'.repeat(20000)}\r\nConnection: close\r\n\r\n`);
  assert.equal(headers.status, 431);
  checkErrorBody(headers.json);
  const url = await raw(`GET /health?${'q'.repeat(9000)} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  assert.equal(url.status, 414);
  checkErrorBody(url.json);
  const garbage = await raw('THIS IS NOT HTTP\r\n\r\n');
  assert.equal(garbage.status, 400);
  checkErrorBody(garbage.json);
});

test('admin needs the bearer token when one is set', async () => {
  for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: 's3cret' }]) {
    const r = await call('/admin/pool', { method: 'GET', headers });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.type, 'authentication_error');
  }
  const ok = await call('/admin/pool', { method: 'GET', headers: { Authorization: 'Bearer s3cret' } });
  assert.equal(ok.status, 200);
  assert.equal(typeof ok.json.gpu.total, 'number');
});

test('after all of it the server still answers correctly', async () => {
  const r = await completion({ prompt: 'Once upon a time', max_tokens: 5, temperature: 0 });
  assert.equal(r.status, 200);
  assert.equal(r.json.choices[0].text, ', there was a little');
});

test('too many queued requests get 503 server_overloaded with Retry-After', async () => {
  const busy = await startServer(['--max-waiting-requests', '1', '--max-num-seqs', '1']);
  try {
    const responses = await Promise.all(Array.from({ length: 12 }, () => fetch(`${busy.url}/v1/completions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: 'Once', max_tokens: 40, ignore_eos: true }),
    })));
    const statuses = responses.map((r) => r.status);
    const refused = responses.filter((r) => r.status === 503);
    assert.ok(refused.length > 0, `statuses ${statuses}`);
    assert.ok(statuses.includes(200), `statuses ${statuses}`);
    assert.deepEqual([...new Set(statuses)].sort(), [200, 503]);
    for (const r of refused) {
      assert.equal(r.headers.get('retry-after'), '1');
      const body = await r.json();
      checkErrorBody(body);
      assert.equal(body.error.code, 'server_overloaded');
    }
    await Promise.all(responses.filter((r) => r.status === 200).map((r) => r.json()));
  } finally {
    await busy.stop();
  }
});
