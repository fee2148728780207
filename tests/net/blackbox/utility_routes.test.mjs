// vLLM's utility routes with curl: /tokenize (prompt and chat messages)
// and /detokenize round-trip and agree with the token counts generation
// reports; /version; X-Request-Id is echoed and logged.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { cases } from './lib/reference.mjs';
import { startServer } from './lib/server.mjs';

const run = promisify(execFile);
let server;
before(async () => { server = await startServer(['--log-level', 'info']); });
after(async () => { await server?.stop(); });

// curl's answer: the status, the headers (lower-case names) and the body
// (parsed when it is JSON).
async function curl(path, body, headers = []) {
  const args = ['-s', '-i', `${server.url}${path}`, ...headers.flatMap((h) => ['-H', h])];
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
  const { stdout } = await run('curl', args);
  const [head, ...rest] = stdout.split('\r\n\r\n');
  const lines = head.split('\r\n');
  const headerMap = Object.fromEntries(lines.slice(1).map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
  }));
  const text = rest.join('\r\n\r\n');
  const json = (headerMap['content-type'] ?? '').startsWith('application/json');
  return { status: Number(lines[0].split(' ')[1]), headers: headerMap, body: json ? JSON.parse(text) : text };
}

test('/tokenize gives the reference prompt ids, BOS included, with the count and max_model_len', async () => {
  for (const c of cases.filter((x) => x.prompt !== '')) {
    const r = await curl('/tokenize', { prompt: c.prompt });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.tokens, c.prompt_ids);
    assert.equal(r.body.count, c.prompt_ids.length);
    assert.equal(r.body.max_model_len, 512);
    assert.equal(r.body.token_strs, null);
  }
  const plain = await curl('/tokenize', { prompt: 'Once upon a time', add_special_tokens: false, return_token_strs: true });
  assert.equal(plain.body.tokens.length, plain.body.count);
  assert.equal(plain.body.token_strs.join(''), 'Once upon a time');
});

test('/tokenize of chat messages counts what chat completions bill as prompt tokens', async () => {
  const messages = [{ role: 'system', content: 'Tell stories.' }, { role: 'user', content: 'Once upon a time' }];
  const t = await curl('/tokenize', { model: 'stories260K', messages });
  const chat = await (await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ messages, max_tokens: 1 }),
  })).json();
  assert.equal(t.body.count, chat.usage.prompt_tokens);
});

test('/detokenize turns the ids back into the text', async () => {
  const t = await curl('/tokenize', { prompt: 'The little cat sat on the mat.' });
  const d = await curl('/detokenize', { tokens: t.body.tokens });
  assert.equal(d.status, 200);
  assert.deepEqual(d.body, { prompt: 'The little cat sat on the mat.' });
});

test('bad tokenize and detokenize requests are OpenAI-style 4xx errors', async () => {
  const bad = [
    ['/tokenize', {}, 400, 'prompt'],
    ['/tokenize', { prompt: 'x', messages: [{ role: 'user', content: 'x' }] }, 400, 'messages'],
    ['/tokenize', { prompt: 7 }, 400, 'prompt'],
    ['/tokenize', { prompt: 'x', model: 'gpt-4' }, 404, 'model'],
    ['/detokenize', { tokens: [1, 100000] }, 400, 'tokens'],
    ['/detokenize', { tokens: 'abc' }, 400, 'tokens'],
    ['/detokenize', {}, 400, 'tokens'],
  ];
  for (const [path, body, status, param] of bad) {
    const r = await curl(path, body);
    assert.equal(r.status, status, `${path} ${JSON.stringify(body)}`);
    assert.equal(r.body.error.param, param);
  }
  const get = await curl('/tokenize');
  assert.equal(get.status, 405);
});

test('/version answers the version; X-Request-Id is echoed and written in the request log line', async () => {
  const v = await curl('/version');
  assert.equal(v.status, 200);
  assert.match(v.body.version, /^\d+\.\d+\.\d+$/);
  const r = await curl('/v1/completions', { prompt: 'Hi', max_tokens: 1 }, ['X-Request-Id: trace-42']);
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-request-id'], 'trace-42');
  const streamed = await curl('/v1/completions', { prompt: 'Hi', max_tokens: 1, stream: true }, ['X-Request-Id: trace-43']);
  assert.equal(streamed.headers['x-request-id'], 'trace-43');
  assert.match(streamed.body, /data: \[DONE\]/);
  assert.match(server.log(), /msg=http method=POST path=\/v1\/completions status=200 .*request_id=trace-42/);
});
