// The official OpenAI Node SDK against pagedserve: greedy completions equal
// llama2.c's reference tokens (plain and streamed, text and token-id
// prompts), chat completions follow the documented template, n samples.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { cases, decode, expectedText } from './lib/reference.mjs';
import { startServer } from './lib/server.mjs';

let server, client, model;

before(async () => {
  server = await startServer();
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  model = (await client.models.list()).data[0].id;
});
after(async () => { await server?.stop(); });

const tokenIds = (logprobs) => logprobs.tokens.map((t) => {
  assert.match(t, /^token_id:\d+$/);
  return Number(t.slice('token_id:'.length));
});

test('models lists the served model', async () => {
  const list = await client.models.list();
  assert.equal(list.data.length, 1);
  assert.equal(list.data[0].id, 'stories260K');
});

test('greedy completions reproduce the reference token ids and text', async () => {
  await Promise.all(cases.map(async (c) => {
    const r = await client.completions.create({
      model, prompt: c.prompt, max_tokens: c.maxTokens, temperature: 0, logprobs: 0, return_tokens_as_token_ids: true,
    });
    assert.equal(r.object, 'text_completion');
    assert.equal(r.usage.prompt_tokens, c.prompt_ids.length, `prompt tokens of ${JSON.stringify(c.prompt)}`);
    assert.deepEqual(tokenIds(r.choices[0].logprobs), c.output_ids);
    assert.equal(r.choices[0].text, expectedText(c));
    assert.equal(r.usage.completion_tokens, c.output_ids.length);
    assert.equal(r.choices[0].finish_reason, 'length');
  }));
});

test('streamed completions from token-id prompts reproduce the reference', async () => {
  await Promise.all(cases.map(async (c) => {
    const stream = await client.completions.create({
      model, prompt: c.prompt_ids, max_tokens: c.maxTokens, temperature: 0, stream: true,
      logprobs: 0, return_tokens_as_token_ids: true,
    });
    let text = '';
    const ids = [];
    let finish = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      text += choice.text;
      if (choice.logprobs) ids.push(...tokenIds(choice.logprobs));
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    assert.deepEqual(ids, c.output_ids);
    assert.equal(text, expectedText(c));
    assert.equal(finish, 'length');
  }));
});

test('a list of prompts gives n choices per prompt, numbered prompt by prompt', async () => {
  const r = await client.completions.create({
    model, prompt: ['Once upon a time', 'The little cat'], n: 3, max_tokens: 12, temperature: 0.9, seed: 11,
  });
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2, 3, 4, 5]);
  assert.equal(r.usage.completion_tokens, 6 * 12);
  // greedy with n=2: both samples are the reference
  const c = cases[1];
  const g = await client.completions.create({ model, prompt: c.prompt, n: 2, max_tokens: 20, temperature: 0 });
  for (const choice of g.choices) assert.equal(choice.text, decode(c.output_ids.slice(0, 20), c.prompt_ids.at(-1)));
});

test('echo puts the prompt in front of the completion', async () => {
  const c = cases[1];
  const r = await client.completions.create({ model, prompt: c.prompt, max_tokens: 10, temperature: 0, echo: true });
  assert.equal(r.choices[0].text, c.prompt + decode(c.output_ids.slice(0, 10), c.prompt_ids.at(-1)));
});

test('chat completions render the documented template; streamed deltas add up to the same answer', async () => {
  const messages = [{ role: 'system', content: 'Tell stories.' }, { role: 'user', content: 'Once upon a time' }];
  const chat = await client.chat.completions.create({ model, messages, max_tokens: 40, temperature: 0 });
  assert.equal(chat.object, 'chat.completion');
  assert.equal(chat.choices[0].message.role, 'assistant');
  const templated = await client.completions.create({
    model, prompt: '<|system|>\nTell stories.\n<|user|>\nOnce upon a time\n<|assistant|>\n', max_tokens: 40, temperature: 0,
  });
  assert.equal(chat.choices[0].message.content, templated.choices[0].text);
  assert.equal(chat.usage.prompt_tokens, templated.usage.prompt_tokens);

  const stream = await client.chat.completions.create({
    model, messages, max_tokens: 40, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let content = '', role = null, finish = null, usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      role ??= choice.delta.role ?? null;
      content += choice.delta.content ?? '';
      finish = choice.finish_reason ?? finish;
    }
  }
  assert.equal(role, 'assistant');
  assert.equal(content, chat.choices[0].message.content);
  assert.equal(finish, 'length');
  assert.equal(usage.completion_tokens, 40);
});

test('the SDK surfaces server errors as APIError with the OpenAI error body', async () => {
  await assert.rejects(
    client.completions.create({ model, prompt: 'x', temperature: -1 }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.error.param === 'temperature'
      && e.error.type === 'invalid_request_error',
  );
  await assert.rejects(
    client.completions.create({ model: 'no-such-model', prompt: 'x' }),
    (e) => e instanceof OpenAI.NotFoundError && e.error.code === 'model_not_found',
  );
});

test('a repeated prompt reports its prefix-cached tokens in usage.prompt_tokens_details', async () => {
  // 40 prompt tokens: two full 16-token blocks can come from the cache.
  const prompt = 'Once upon a time there was a little girl named Lily who loved to play outside in the sun with her dog and her friends every day';
  const first = await client.completions.create({ model, prompt, max_tokens: 1, temperature: 0 });
  assert.equal(first.usage.prompt_tokens_details.cached_tokens, 0);
  const second = await client.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }], max_tokens: 1 });
  assert.equal(typeof second.usage.prompt_tokens_details.cached_tokens, 'number');
  const again = await client.completions.create({ model, prompt, max_tokens: 1, temperature: 0 });
  assert.ok(again.usage.prompt_tokens >= 33, `prompt of ${again.usage.prompt_tokens} tokens`);
  assert.equal(again.usage.prompt_tokens_details.cached_tokens, 16 * Math.floor((again.usage.prompt_tokens - 1) / 16));
});
