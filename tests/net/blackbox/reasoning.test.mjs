// --reasoning-parser through the OpenAI Node SDK: a chat template that opens
// <think> at the end of the prompt (as DeepSeek-R1's does) makes the model's
// output reasoning until it writes </think>; a model with random weights
// never does, so its whole answer is reasoning_content, whole and streamed,
// and content stays empty. A constrained answer is not split (its text is
// the constrained output), and the Responses API shows a reasoning item.
// The split itself, on model-like text, is tested in
// tests/net/chat_output_test.cpp and tests/parsers.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { sourceDir, startServer } from './lib/server.mjs';

const model = 'dummy:stories260K';
const kTemplate = `{% for m in messages %}<|{{ m.role }}|>{{ m.content }}
{% endfor %}<|assistant|><think>
`;
let dir, server, client;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedserve-reasoning-'));
  fs.writeFileSync(path.join(dir, 'template.jinja'), kTemplate);
  server = await startServer(['--model', model, '--tokenizer', path.join(sourceDir, 'models/stories260K/tok512.bin'),
    '--chat-template', path.join(dir, 'template.jinja'), '--reasoning-parser', 'deepseek_r1', '--tool-call-parser', 'none']);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const request = { model, messages: [{ role: 'user', content: 'Why is the sky blue?' }], max_tokens: 24, temperature: 0 };

test('the thinking is reasoning_content, whole and streamed alike; content excludes it', async () => {
  const r = await client.chat.completions.create(request);
  const m = r.choices[0].message;
  assert.equal(typeof m.reasoning_content, 'string');
  assert.ok(m.reasoning_content.length > 0);
  assert.equal(m.content, '');
  assert.equal(r.choices[0].finish_reason, 'length');

  const stream = await client.chat.completions.create({ ...request, stream: true });
  let reasoning = '', content = '';
  for await (const chunk of stream) {
    reasoning += chunk.choices[0]?.delta?.reasoning_content ?? '';
    content += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.equal(reasoning, m.reasoning_content);
  assert.equal(content, '');
});

test('a constrained answer is not split: its text is the content', async () => {
  const schema = { type: 'object', properties: { ok: { type: 'boolean' }, n: { type: 'integer' } }, required: ['ok', 'n'],
    additionalProperties: false };
  const r = await client.chat.completions.create({ ...request, max_tokens: 100,
    response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } });
  const m = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(m.reasoning_content, undefined);
  assert.equal(typeof JSON.parse(m.content).ok, 'boolean');
});

test('the Responses API shows the thinking as a reasoning item', async () => {
  const r = await client.responses.create({ model, input: 'Why?', max_output_tokens: 12, temperature: 0 });
  assert.equal(r.output[0].type, 'reasoning');
  assert.match(r.output[0].id, /^rs_/);
  assert.ok(r.output[0].content[0].text.length > 0);
  const stream = await client.responses.create({ model, input: 'Why?', max_output_tokens: 12, temperature: 0, stream: true });
  const events = [];
  for await (const e of stream) events.push(e);
  const deltas = events.filter((e) => e.type === 'response.reasoning_text.delta').map((e) => e.delta).join('');
  assert.equal(deltas, r.output[0].content[0].text);
  assert.equal(events.find((e) => e.type === 'response.reasoning_text.done').text, deltas);
  events.forEach((e, i) => assert.equal(e.sequence_number, i));
});
