// Structured output through the clients people use: the OpenAI Node SDK's
// response_format (json_schema, its zod helper, json_object), streamed and
// not, on chat and completions; vLLM's guided_* fields; the Responses API's
// text.format; the WebSocket protocol. Bad schemas, unsupported keywords,
// regexes and grammars are 400s naming the problem, and the server keeps
// serving. Outputs are checked with ajv and JavaScript's RegExp.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Ajv from 'ajv';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { connect } from './lib/ws.mjs';
import { startServer } from './lib/server.mjs';

let server, client;
const ajv = new Ajv({ strict: false });
const messages = [{ role: 'user', content: 'Tell me about a little girl.' }];

before(async () => {
  server = await startServer();
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => { await server?.stop(); });

const Person = z.object({
  name: z.string().max(12),
  age: z.number().int(),
  tags: z.array(z.enum(['kind', 'brave', 'small'])).max(3),
  pet: z.object({ kind: z.string().max(5), legs: z.number().int() }).nullable(),
});

test('the zod helper: chat completions parse into the schema, plain and streamed', async () => {
  const format = zodResponseFormat(Person, 'person');
  const validate = ajv.compile(format.json_schema.schema);
  for (const seed of [1, 2, 3]) {
    const r = await client.chat.completions.parse({ model: 'stories260K', messages, response_format: format, max_tokens: 300, seed });
    assert.equal(r.choices[0].finish_reason, 'stop');
    const parsed = r.choices[0].message.parsed;
    assert.ok(validate(parsed), JSON.stringify(validate.errors));
    assert.deepEqual(Person.parse(parsed), parsed);
  }
  const stream = await client.chat.completions.create({ model: 'stories260K', messages, response_format: format, max_tokens: 300,
    stream: true, seed: 4, temperature: 1 });
  let text = '';
  let finish = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(finish, 'stop');
  assert.ok(validate(JSON.parse(text)), text);
});

test('response_format json_schema on completions with n > 1, guided_json greedy', async () => {
  const schema = { type: 'object', properties: { title: { type: 'string', maxLength: 10 }, words: { type: 'array',
    items: { type: 'string', pattern: '^[a-z]{1,6}$' }, minItems: 1, maxItems: 3 } }, required: ['title', 'words'],
  additionalProperties: false };
  const validate = ajv.compile(schema);
  const r = await client.completions.create({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 200, n: 4, seed: 7,
    response_format: { type: 'json_schema', json_schema: { name: 'story', schema, strict: true } } });
  assert.equal(r.choices.length, 4);
  for (const c of r.choices) {
    assert.equal(c.finish_reason, 'stop');
    assert.ok(validate(JSON.parse(c.text)), c.text);
  }
  const greedy = await client.completions.create({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 200,
    temperature: 0, guided_json: { type: 'object', properties: { who: { type: 'string', maxLength: 20 } }, required: ['who'] } });
  assert.equal(greedy.choices[0].finish_reason, 'stop');
  assert.equal(typeof JSON.parse(greedy.choices[0].text).who, 'string');
});

test('guided_regex, guided_choice and guided_grammar steer a trained model', async () => {
  const regex = await client.completions.create({ model: 'stories260K', prompt: 'The phone number is', max_tokens: 20,
    guided_regex: '\\d{3}-\\d{4}' });
  assert.match(regex.choices[0].text, /^\d{3}-\d{4}$/);
  const choice = await client.chat.completions.create({ model: 'stories260K', messages, max_tokens: 10,
    guided_choice: ['happy', 'sad', 'sleepy'] });
  assert.ok(['happy', 'sad', 'sleepy'].includes(choice.choices[0].message.content));
  const grammar = await client.completions.create({ model: 'stories260K', prompt: 'Lily said', max_tokens: 60,
    guided_grammar: 'root ::= "\\"" word (" " word){1,4} "!\\""\nword ::= [a-z]{1,8}\n' });
  assert.match(grammar.choices[0].text, /^"[a-z]{1,8}( [a-z]{1,8}){1,4}!"$/);
});

test('the Responses API text.format and the WebSocket protocol take the same constraints', async () => {
  const schema = { type: 'object', properties: { ok: { type: 'boolean' }, n: { type: 'integer' } }, required: ['ok', 'n'],
    additionalProperties: false };
  const r = await client.responses.create({ model: 'stories260K', input: 'Answer:', max_output_tokens: 60,
    text: { format: { type: 'json_schema', name: 'answer', schema, strict: true } } });
  assert.ok(ajv.validate(schema, JSON.parse(r.output_text)), r.output_text);
  const ws = await connect(server.url);
  try {
    const done = await ws.generate('g1', { prompt: 'Once', max_tokens: 30, guided_regex: '(yes|no)!{1,3}' });
    assert.equal(done.done.finish_reason, 'stop');
    assert.match(done.tokens.map((t) => t.text).join(''), /^(yes|no)!{1,3}$/);
    const bad = await ws.generate('g2', { prompt: 'Once', guided_json: { type: 'integer', minimum: 1 } });
    assert.equal(bad.error.error.param, 'guided_json');
    assert.match(bad.error.error.message, /unsupported JSON Schema keyword 'minimum'/);
  } finally {
    ws.ws.close();
  }
});

test('bad constraints are 400s that name the problem, and the server keeps serving', async () => {
  const cases = [
    [{ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: { a: { format: 'email' } } } } } },
      'response_format.json_schema.schema', /'format' at #\/properties\/a/],
    [{ response_format: { type: 'json_schema', json_schema: { name: 'x' } } }, 'response_format.json_schema.schema', /is required/],
    [{ response_format: { type: 'yaml' } }, 'response_format.type', /text, json_object or json_schema/],
    [{ guided_json: { $ref: '#/$defs/nope' } }, 'guided_json', /points nowhere/],
    [{ guided_regex: '(a' }, 'guided_regex', /expected '\)'/],
    [{ guided_regex: '(a)\\1' }, 'guided_regex', /backreferences/],
    [{ guided_grammar: 'root ::= root "a" | "b"' }, 'guided_grammar', /left-recursive/],
    [{ guided_grammar: 'root ::= "a" root' }, 'guided_grammar', /accepts no string/],
    [{ guided_grammar: 'root ::= thing' }, 'guided_grammar', /undefined rule thing/],
    [{ guided_choice: [] }, 'guided_choice', /non-empty list/],
    [{ guided_choice: 'abc' }, 'guided_choice', /./],
    [{ guided_regex: 'a', guided_choice: ['a'] }, 'guided_choice', /only one structured output constraint/],
    [{ structured_outputs: { yaml: 'x' } }, 'structured_outputs.yaml', /not supported/],
    [{ guided_regex: 'a+', use_beam_search: true, n: 2 }, 'use_beam_search', /beam search/],
  ];
  for (const [fields, param, message] of cases) {
    const r = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x', max_tokens: 4, ...fields }) });
    const body = await r.json();
    assert.equal(r.status, 400, JSON.stringify(fields));
    assert.equal(body.error.param, param, JSON.stringify(body));
    assert.match(body.error.message, message);
  }
  const chat = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages,
    response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'array', uniqueItems: true } } } }) });
  assert.equal(chat.status, 400);
  assert.match((await chat.json()).error.message, /'uniqueItems'/);
  const after = await client.completions.create({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 5, temperature: 0 });
  assert.equal(after.choices[0].finish_reason, 'length');
});
