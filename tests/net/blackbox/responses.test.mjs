// The Responses API with the official OpenAI Node SDK: plain and streamed
// (the documented event sequence), instructions, message-list input,
// max_output_tokens, previous_response_id; each answer checked against the
// chat completion of the same conversation.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startServer } from './lib/server.mjs';

let server, client;
const model = 'stories260K';

before(async () => {
  server = await startServer();
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => { await server?.stop(); });

// The same conversation as a greedy chat completion.
async function chat(messages, max_tokens) {
  const r = await client.chat.completions.create({ model, messages, max_tokens, temperature: 0 });
  return { text: r.choices[0].message.content, promptTokens: r.usage.prompt_tokens, finish: r.choices[0].finish_reason };
}

test('a plain response answers as chat does, with the Response object\'s fields', async () => {
  const r = await client.responses.create({ model, input: 'Once upon a time', max_output_tokens: 12, temperature: 0 });
  const expected = await chat([{ role: 'user', content: 'Once upon a time' }], 12);
  assert.equal(r.object, 'response');
  assert.match(r.id, /^resp_/);
  assert.equal(r.model, model);
  assert.equal(r.output_text, expected.text);
  assert.equal(r.output[0].type, 'message');
  assert.equal(r.output[0].role, 'assistant');
  assert.equal(r.output[0].content[0].type, 'output_text');
  assert.equal(r.usage.input_tokens, expected.promptTokens);
  assert.equal(r.usage.output_tokens, 12);
  assert.equal(r.usage.total_tokens, expected.promptTokens + 12);
  assert.equal(typeof r.usage.input_tokens_details.cached_tokens, 'number');
  assert.equal(r.status, 'incomplete');
  assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal(r.max_output_tokens, 12);
});

test('instructions and a message list render as chat messages', async () => {
  const input = [
    { role: 'user', content: 'Tell me a story.' },
    { role: 'assistant', content: [{ type: 'output_text', text: 'Once upon a time' }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Go on.' }] },
  ];
  const r = await client.responses.create({ model, instructions: 'Be brief.', input, max_output_tokens: 20, temperature: 0 });
  const expected = await chat([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Tell me a story.' },
    { role: 'assistant', content: 'Once upon a time' }, { role: 'user', content: 'Go on.' }], 20);
  assert.equal(r.output_text, expected.text);
  assert.equal(r.usage.input_tokens, expected.promptTokens);
  assert.equal(r.instructions, 'Be brief.');
});

test('a streamed response sends the documented events in order, numbered', async () => {
  const stream = await client.responses.create({ model, input: 'Once upon a time', max_output_tokens: 10, temperature: 0, stream: true });
  const events = [];
  for await (const e of stream) events.push(e);
  const types = events.map((e) => e.type);
  assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added',
    'response.content_part.added']);
  assert.deepEqual(types.slice(-4), ['response.output_text.done', 'response.content_part.done',
    'response.output_item.done', 'response.incomplete']);
  const deltas = events.filter((e) => e.type === 'response.output_text.delta');
  assert.ok(deltas.length > 0 && deltas.length <= 10);
  assert.equal(types.length, 8 + deltas.length);
  events.forEach((e, i) => assert.equal(e.sequence_number, i));
  assert.equal(events[0].response.status, 'in_progress');
  const text = deltas.map((d) => d.delta).join('');
  assert.equal(events.at(-4).text, text);
  const final = events.at(-1).response;
  assert.equal(final.output[0].content[0].text, text);
  assert.equal(final.usage.output_tokens, 10);
  const plain = await client.responses.create({ model, input: 'Once upon a time', max_output_tokens: 10, temperature: 0 });
  assert.equal(text, plain.output_text);
});

test('previous_response_id continues a conversation kept in memory; store: false keeps nothing', async () => {
  const first = await client.responses.create({ model, input: 'Hi', max_output_tokens: 8, temperature: 0 });
  const second = await client.responses.create({
    model, previous_response_id: first.id, input: 'And then?', max_output_tokens: 8, temperature: 0,
  });
  const expected = await chat([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: first.output_text },
    { role: 'user', content: 'And then?' }], 8);
  assert.equal(second.previous_response_id, first.id);
  assert.equal(second.output_text, expected.text);
  assert.equal(second.usage.input_tokens, expected.promptTokens);

  const unstored = await client.responses.create({ model, input: 'Hi', max_output_tokens: 2, store: false });
  for (const id of [unstored.id, 'resp_nonexistent']) {
    await assert.rejects(client.responses.create({ model, previous_response_id: id, input: 'x', max_output_tokens: 2 }),
      (e) => e instanceof OpenAI.NotFoundError && e.error.code === 'previous_response_not_found'
        && e.error.param === 'previous_response_id');
  }
});

test('bad requests are 400s naming the field', async () => {
  const bad = [
    [{ model }, 'input'],
    [{ model, input: 7 }, 'input'],
    [{ model, input: [{ role: 'wizard', content: 'x' }] }, 'input.role'],
    [{ model, input: [{ type: 'computer_call_output', call_id: 'c', output: {} }] }, 'input'],
    [{ model, input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, 'function_call.call_id'],
    [{ model, input: 'x', max_output_tokens: 0 }, 'max_output_tokens'],
    [{ model, input: 'x', tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    [{ model, input: 'x', temperature: -1 }, 'temperature'],
    [{ model, input: 'x', n: 2 }, 'n'],
  ];
  for (const [body, param] of bad) {
    await assert.rejects(client.responses.create(body),
      (e) => e instanceof OpenAI.BadRequestError && e.error.param === param, JSON.stringify(body));
  }
  await assert.rejects(client.responses.create({ model: 'gpt-4o', input: 'x' }), (e) => e.status === 404);
});

// The SDK's own WebSocket mode (ResponsesWS): response.create client events
// on one socket, answered with the streamed events.
test('the SDK\'s WebSocket mode gets the same events and answers, one response after another', async () => {
  const { ResponsesWS } = await import('openai/resources/responses/ws');
  const ws = new ResponsesWS(client);
  await new Promise((resolve, reject) => { ws.socket.once('open', resolve); ws.socket.once('error', reject); });
  const errors = [];
  ws.on('error', (e) => errors.push(e));
  let events = [];
  let settle = null;
  ws.on('event', (e) => {
    events.push(e);
    if (['response.completed', 'response.incomplete', 'response.failed', 'error'].includes(e.type)) settle();
  });
  const create = async (params) => {
    events = [];
    const over = new Promise((r) => { settle = r; });
    ws.send({ type: 'response.create', model, temperature: 0, ...params });
    await over;
    return events;
  };

  const first = await create({ input: 'Once upon a time', max_output_tokens: 10 });
  assert.deepEqual(first.slice(0, 4).map((e) => e.type), ['response.created', 'response.in_progress',
    'response.output_item.added', 'response.content_part.added']);
  first.forEach((e, i) => assert.equal(e.sequence_number, i));
  const final = first.at(-1);
  assert.equal(final.type, 'response.incomplete');
  const text = first.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
  const plain = await client.responses.create({ model, input: 'Once upon a time', max_output_tokens: 10, temperature: 0 });
  assert.equal(text, plain.output_text);
  assert.equal(final.response.output[0].content[0].text, text);

  const second = await create({ input: 'And then?', previous_response_id: final.response.id, max_output_tokens: 6 });
  assert.equal(second.at(-1).response.previous_response_id, final.response.id);

  const bad = await create({ input: 7 });
  assert.equal(bad.at(-1).type, 'error');
  assert.equal(bad.at(-1).param, 'input');
  assert.equal(errors.length, 1);  // the SDK reports an error event as an error
  const unknown = await create({ type: 'session.update' });
  assert.equal(unknown.at(-1).code, 'unknown_event');

  const again = await create({ input: 'Once upon a time', max_output_tokens: 10 });  // the socket still serves
  assert.equal(again.at(-1).response.output[0].content[0].text, text);
  ws.close();
});
