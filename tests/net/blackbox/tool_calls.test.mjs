// Tool calling through the OpenAI Node SDK: tools with tool_choice
// "required" and a named function on a model with random weights at
// temperature 1 (its text is noise, so only the grammar engine can make the
// calls valid), plain and streamed, over several seeds: every call's
// arguments must parse and ajv must validate them against the function's
// parameters schema. The same on the Responses API (function_call items,
// their streamed events, a function_call_output answered), its WebSocket
// mode, and the refusals (a 400 naming the problem, then the server keeps
// serving). tool_choice "auto" on noise is plain text: the parsers' own
// formats are tested with model-like text in tests/net/chat_output_test.cpp.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Ajv from 'ajv';
import OpenAI from 'openai';
import { zodFunction } from 'openai/helpers/zod';
import { z } from 'zod';
import { sourceDir, startServer } from './lib/server.mjs';

const model = 'dummy:stories260K';
const seeds = Array.from({ length: Number(process.env.PAGEDSERVE_TOOL_SEEDS ?? 8) }, (_, i) => i + 1);
const ajv = new Ajv({ strict: false });
let dir, server, client;

// A short template (stories260K's context is 512 tokens) that lists the
// tools and shows the hermes format, so the server parses auto with it.
const kTemplate = `{#- Calls are written as <tool_call>{"name": ..., "arguments": ...}</tool_call>. -#}
{% for m in messages %}<|{{ m.role }}|>{{ m.content if m.content is string else '' }}
{% for c in m.tool_calls or [] %}<tool_call>{{ c.function.name }}</tool_call>{% endfor %}{% endfor %}
{%- if tools %}<tools>{% for t in tools %}{{ t.function.name }} {% endfor %}</tools>{% endif %}<|assistant|>`;

const tools = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 12 }, unit: { enum: ['c', 'f'] },
      days: { type: 'integer' } }, required: ['city'], additionalProperties: false } } },
  { type: 'function', function: { name: 'book_table',
    parameters: { type: 'object', properties: {
      name: { type: 'string', maxLength: 8 }, people: { type: 'integer' },
      at: { $ref: '#/$defs/time' }, tags: { type: 'array', items: { enum: ['window', 'quiet', 'kids'] }, maxItems: 3 },
      note: { anyOf: [{ type: 'string', maxLength: 6 }, { type: 'null' }] } },
    required: ['name', 'at'], additionalProperties: false,
    $defs: { time: { type: 'object', properties: { h: { type: 'integer' }, m: { type: 'integer' } }, required: ['h'],
      additionalProperties: false } } } } },
  { type: 'function', function: { name: 'now', description: 'The time; takes nothing' } },
];
const validators = Object.fromEntries(tools.map((t) => [t.function.name,
  ajv.compile(t.function.parameters ?? { type: 'object', additionalProperties: false })]));
const messages = [{ role: 'user', content: 'Weather in Bern, and a table for two?' }];

function checkCall(call, name) {
  assert.match(call.id, /^call_[0-9a-f]{24}$/);
  assert.equal(call.type, 'function');
  assert.ok(name ? call.function.name === name : call.function.name in validators, call.function.name);
  const validate = validators[call.function.name];
  const args = JSON.parse(call.function.arguments);
  assert.ok(validate(args), `${call.function.name}(${call.function.arguments}): ${JSON.stringify(validate.errors)}`);
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedserve-tools-'));
  fs.writeFileSync(path.join(dir, 'template.jinja'), kTemplate);
  server = await startServer(['--model', model, '--tokenizer', path.join(sourceDir, 'models/stories260K/tok512.bin'),
    '--chat-template', path.join(dir, 'template.jinja'), '--max-num-seqs', '32']);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// No max_tokens: the rest of the context, room for several calls.
const base = { model, messages, tools, temperature: 1 };

test('tool_choice required: every call of every seed is a call of a tool with valid arguments', async () => {
  let calls = 0;
  await Promise.all(seeds.map(async (seed) => {
    const parallel = seed % 2 === 1;
    const r = await client.chat.completions.create({ ...base, seed, tool_choice: 'required', parallel_tool_calls: parallel });
    assert.equal(r.choices[0].finish_reason, 'tool_calls', JSON.stringify(r.choices[0]));
    const m = r.choices[0].message;
    assert.equal(m.content, null);
    assert.ok(m.tool_calls.length >= 1);
    if (!parallel) assert.equal(m.tool_calls.length, 1);
    for (const call of m.tool_calls) checkCall(call);
    assert.equal(new Set(m.tool_calls.map((c) => c.id)).size, m.tool_calls.length);
    calls += m.tool_calls.length;
  }));
  assert.ok(calls >= seeds.length);
  // n > 1: each choice is constrained.
  const n = await client.chat.completions.create({ ...base, seed: 99, n: 3, tool_choice: 'required' });
  assert.equal(n.choices.length, 3);
  for (const c of n.choices) c.message.tool_calls.forEach((call) => checkCall(call));
});

test('a named function: one call of it with valid arguments, finish_reason stop as vLLM answers', async () => {
  await Promise.all(seeds.map(async (seed) => {
    const name = tools[seed % tools.length].function.name;
    const r = await client.chat.completions.create({ ...base, seed, tool_choice: { type: 'function', function: { name } } });
    const m = r.choices[0].message;
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.equal(m.content, null);
    assert.equal(m.tool_calls.length, 1);
    checkCall(m.tool_calls[0], name);
  }));
});

// A stream's tool-call deltas put together as OpenAI documents them: the
// first delta of a call has its index, id, type and name, the next ones
// argument fragments.
async function streamedCalls(params) {
  const stream = await client.chat.completions.create({ ...params, stream: true });
  const calls = [];
  let finish = null, content = '', firstPieces = 0;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    finish = choice.finish_reason ?? finish;
    content += choice.delta.content ?? '';
    for (const piece of choice.delta.tool_calls ?? []) {
      if (piece.id) {
        assert.equal(piece.index, calls.length);
        assert.equal(piece.type, 'function');
        assert.equal(piece.function.arguments, '');
        calls.push({ id: piece.id, type: piece.type, function: { name: piece.function.name, arguments: '' } });
        ++firstPieces;
      } else {
        assert.equal(piece.index, calls.length - 1);
        assert.equal(piece.function.name, undefined);
        calls[piece.index].function.arguments += piece.function.arguments;
      }
    }
  }
  return { calls, finish, content, firstPieces };
}

test('streamed: tool-call deltas with the OpenAI shape, arguments streamed as generated', async () => {
  for (const seed of seeds.slice(0, 4)) {
    const required = await streamedCalls({ ...base, seed, tool_choice: 'required' });
    assert.equal(required.finish, 'tool_calls');
    assert.equal(required.content, '');
    assert.ok(required.calls.length >= 1);
    required.calls.forEach((call) => checkCall(call));
    const plain = await client.chat.completions.create({ ...base, seed, tool_choice: 'required' });
    assert.deepEqual(required.calls.map((c) => [c.function.name, c.function.arguments]),
      plain.choices[0].message.tool_calls.map((c) => [c.function.name, c.function.arguments]), 'the same seed, the same calls');
    const named = await streamedCalls({ ...base, seed, tool_choice: { type: 'function', function: { name: 'book_table' } } });
    assert.equal(named.finish, 'stop');
    assert.equal(named.calls.length, 1);
    checkCall(named.calls[0], 'book_table');
  }
  // The SDK's stream helper accumulates the deltas into the same message.
  const runner = client.chat.completions.stream({ ...base, seed: 3, tool_choice: 'required' });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  final.choices[0].message.tool_calls.forEach((call) => checkCall(call));
});

test("the SDK's zod helper: strict function tools, their arguments parsed", async () => {
  const Weather = z.object({ city: z.string().max(10), unit: z.enum(['c', 'f']).nullable() });
  const tool = zodFunction({ name: 'get_weather', parameters: Weather });
  // ajv judges: JSON Schema's maxLength counts characters (code points),
  // zod's max() UTF-16 units, so a string of 10 characters with one outside
  // the BMP is valid JSON Schema that zod refuses.
  const validate = ajv.compile(tool.function.parameters);
  for (const seed of seeds.slice(0, 3)) {
    const r = await client.chat.completions.parse({ model, messages, temperature: 1, seed, max_tokens: 200, tools: [tool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } } }).catch((e) => {
      if (e.name !== 'ZodError') throw e;
      return null;
    });
    const raw = await client.chat.completions.create({ model, messages, temperature: 1, seed, max_tokens: 200, tools: [tool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    const call = raw.choices[0].message.tool_calls[0];
    assert.equal(call.function.name, 'get_weather');
    const args = JSON.parse(call.function.arguments);
    assert.ok(validate(args), `${call.function.arguments}: ${JSON.stringify(validate.errors)}`);
    if (r) assert.deepEqual(r.choices[0].message.tool_calls[0].function.parsed_arguments, args);
    else assert.ok([...args.city].length <= 10 && args.city.length > 10, 'zod refused only for UTF-16 length');
  }
});

test('auto on noise is text: content, no tool_calls; tool messages render through the template', async () => {
  const conversation = [...messages,
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Bern"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '21 C, sunny' }];
  for (const tool_choice of [undefined, 'auto', 'none']) {
    const r = await client.chat.completions.create({ ...base, messages: conversation, seed: 5, max_tokens: 20, tool_choice });
    const m = r.choices[0].message;
    assert.equal(typeof m.content, 'string');
    assert.equal(m.tool_calls, undefined);
    assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  }
});

test('bad tools and tool choices are 400s naming the problem, and the server keeps serving', async () => {
  const cases = [
    [{ tool_choice: { type: 'function', function: { name: 'get_news' } } }, 'tool_choice', /'get_news', which is not in tools/],
    [{ tools: undefined, tool_choice: 'required' }, 'tool_choice', /needs tools/],
    [{ tools: [], tool_choice: { type: 'function', function: { name: 'now' } } }, 'tool_choice', /needs tools/],
    [{ tool_choice: 'sometimes' }, 'tool_choice', /none, auto, required/],
    [{ tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object',
      properties: { n: { type: 'integer', minimum: 1 } } } } }], tool_choice: 'required' },
    'tools[0].function.parameters', /unsupported JSON Schema keyword 'minimum' at #\/properties\/n/],
    [{ tool_choice: 'required', response_format: { type: 'json_object' } }, 'tool_choice', /cannot be combined with response_format/],
    [{ tools: [{ type: 'function', function: { name: 'now' } }, { type: 'function', function: { name: 'now' } }] },
      'tools[1].function.name', /two tools are named 'now'/],
    [{ tools: [{ type: 'function' }] }, 'tools[0].function', /is required/],
  ];
  for (const [fields, param, message] of cases) {
    await assert.rejects(client.chat.completions.create({ ...base, max_tokens: 5, ...fields }),
      (e) => e instanceof OpenAI.BadRequestError && e.error.param === param && message.test(e.error.message),
      JSON.stringify(fields));
  }
  const ok = await client.chat.completions.create({ ...base, seed: 1, tool_choice: 'required' });
  checkCall(ok.choices[0].message.tool_calls[0]);
});

const flatTools = tools.map((t) => ({ type: 'function', ...t.function }));

test('the Responses API: function_call items, plain and streamed, and a function_call_output answered', async () => {
  const r = await client.responses.create({ model, input: messages[0].content, tools: flatTools, tool_choice: 'required',
    temperature: 1, seed: 2, max_output_tokens: 300 });
  assert.equal(r.status, 'completed');
  const calls = r.output.filter((i) => i.type === 'function_call');
  assert.ok(calls.length >= 1);
  for (const item of calls) {
    assert.match(item.id, /^fc_/);
    assert.equal(item.status, 'completed');
    checkCall({ id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } });
  }
  assert.equal(r.tool_choice, 'required');
  assert.equal(r.tools.length, 3);

  const named = await client.responses.create({ model, input: 'A table?', tools: flatTools, temperature: 1, seed: 3,
    tool_choice: { type: 'function', name: 'book_table' }, max_output_tokens: 300 });
  assert.equal(named.output.length, 1);
  checkCall({ id: named.output[0].call_id, type: 'function', function: { name: 'book_table', arguments: named.output[0].arguments } });

  const stream = await client.responses.create({ model, input: messages[0].content, tools: flatTools, tool_choice: 'required',
    temperature: 1, seed: 2, max_output_tokens: 300, stream: true });
  const events = [];
  for await (const e of stream) events.push(e);
  events.forEach((e, i) => assert.equal(e.sequence_number, i));
  const added = events.filter((e) => e.type === 'response.output_item.added');
  assert.ok(added.every((e) => e.item.type === 'function_call' && e.item.arguments === ''));
  const done = events.filter((e) => e.type === 'response.function_call_arguments.done');
  assert.equal(done.length, calls.length);
  done.forEach((d, i) => {
    const deltas = events.filter((e) => e.type === 'response.function_call_arguments.delta' && e.item_id === d.item_id);
    assert.equal(deltas.map((e) => e.delta).join(''), d.arguments);
    assert.equal(d.arguments, calls[i].arguments, 'the same seed, the same calls');
  });
  const final = events.at(-1);
  assert.equal(final.type, 'response.completed');
  assert.deepEqual(final.response.output.map((i) => i.arguments), calls.map((i) => i.arguments));

  // The call's result, continuing the stored conversation.
  const answer = await client.responses.create({ model, previous_response_id: r.id, tools: flatTools, max_output_tokens: 8,
    input: calls.map((c) => ({ type: 'function_call_output', call_id: c.call_id, output: 'done' })) });
  assert.equal(answer.output[0].type, 'message');
  // And the whole history as input items, without previous_response_id.
  const replay = await client.responses.create({ model, tools: flatTools, max_output_tokens: 8,
    input: [{ role: 'user', content: 'Weather?' }, ...calls.map(({ call_id, name, arguments: args }) =>
      ({ type: 'function_call', call_id, name, arguments: args })),
    ...calls.map((c) => ({ type: 'function_call_output', call_id: c.call_id, output: 'done' }))] });
  assert.ok(['completed', 'incomplete'].includes(replay.status));

  await assert.rejects(client.responses.create({ model, input: 'x', tools: flatTools, tool_choice: { type: 'function', name: 'nope' } }),
    (e) => e instanceof OpenAI.BadRequestError && e.error.param === 'tool_choice');
});

test("the Responses API's WebSocket mode streams function calls the same way", async () => {
  const { ResponsesWS } = await import('openai/resources/responses/ws');
  const ws = new ResponsesWS(client);
  await new Promise((resolve, reject) => { ws.socket.once('open', resolve); ws.socket.once('error', reject); });
  const errors = [];
  ws.on('error', (e) => errors.push(e));
  const events = [];
  const over = new Promise((resolve) => ws.on('event', (e) => {
    events.push(e);
    if (['response.completed', 'response.incomplete', 'response.failed', 'error'].includes(e.type)) resolve();
  }));
  ws.send({ type: 'response.create', model, input: 'A table?', tools: flatTools, temperature: 1, seed: 4,
    tool_choice: { type: 'function', name: 'book_table' }, max_output_tokens: 300 });
  await over;
  ws.close();
  assert.deepEqual(errors, []);
  assert.equal(events.at(-1).type, 'response.completed', JSON.stringify(events.at(-1)));
  const done = events.find((e) => e.type === 'response.function_call_arguments.done');
  checkCall({ id: events.at(-1).response.output[0].call_id, type: 'function', function: { name: 'book_table', arguments: done.arguments } });
});
