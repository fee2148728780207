// The WebSocket protocol (/v1/stream) with the `ws` client: token frames
// then done, many ids in flight on one socket, cancel, and error frames for
// bad messages while the socket keeps serving.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cases } from './lib/reference.mjs';
import { startServer } from './lib/server.mjs';
import { connect } from './lib/ws.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('every reference case on one socket at once: tokens equal llama2.c, then done', async () => {
  const s = await connect(server.url);
  const results = await Promise.all(cases.map((c, i) =>
    s.generate(`case-${i}`, { prompt: c.prompt, max_tokens: c.maxTokens, temperature: 0 })));
  results.forEach((r, i) => {
    const c = cases[i];
    assert.equal(r.error, null);
    assert.deepEqual(r.tokens.map((t) => t.token_id), c.output_ids);
    for (const t of r.tokens) {
      assert.equal(t.type, 'token');
      assert.equal(t.index, 0);
      assert.equal(typeof t.text, 'string');
    }
    assert.deepEqual(r.done, {
      type: 'done', id: `case-${i}`, finish_reason: 'length',
      usage: { prompt_tokens: c.prompt_ids.length, completion_tokens: c.output_ids.length },
    });
  });
  await s.close();
});

test('n samples stream with their index; the request ends with one done', async () => {
  const s = await connect(server.url);
  const r = await s.generate('multi', { prompt: 'Once upon a time', n: 3, max_tokens: 15, temperature: 0.8, seed: 3 });
  const perIndex = [0, 1, 2].map((i) => r.tokens.filter((t) => t.index === i).length);
  assert.deepEqual(perIndex, [15, 15, 15]);
  assert.equal(r.done.usage.completion_tokens, 45);
  assert.deepEqual(r.done.finish_reasons, ['length', 'length', 'length']);
  await s.close();
});

test('cancel mid-stream ends the request with finish_reason cancelled', async () => {
  const s = await connect(server.url);
  const r = s.request('long');
  s.send({ type: 'generate', id: 'long', prompt: 'Once upon a time', max_tokens: 480, ignore_eos: true, temperature: 0 });
  const other = s.generate('short', { prompt: 'The little cat', max_tokens: cases[3].maxTokens, temperature: 0 });
  while (r.tokens.length < 5) await new Promise((res) => setTimeout(res, 2));
  s.send({ type: 'cancel', id: 'long' });
  await r.finished;
  assert.equal(r.done.finish_reason, 'cancelled');
  assert.ok(r.tokens.length < 480, `${r.tokens.length} tokens`);
  assert.equal(r.done.usage.completion_tokens, r.tokens.length);
  // the other request on the socket is untouched
  assert.deepEqual((await other).tokens.map((t) => t.token_id), cases[3].output_ids);
  // cancelling an id no longer in flight is a no-op
  s.send({ type: 'cancel', id: 'long' });
  const again = await s.generate('long', { prompt: 'Hi', max_tokens: 2 });
  assert.equal(again.done.usage.completion_tokens, 2);
  await s.close();
});

test('bad messages get an error frame and the socket keeps serving', async () => {
  const s = await connect(server.url);
  s.send('not json at all');
  s.send('[1,2,3]');
  s.send({ type: 'generate', prompt: 'no id' });
  const badParam = await s.generate('bad-param', { prompt: 'x', top_p: 7 });
  const unknownType = s.request('u');
  s.send({ type: 'explode', id: 'u' });
  await unknownType.finished;
  const tooLong = await s.generate('too-long', { prompt: Array(600).fill(5), max_tokens: 4 });
  const badVocab = await s.generate('bad-vocab', { prompt: [1, 99999] });
  const wrongModel = await s.generate('wrong-model', { prompt: 'x', model: 'gpt-4' });
  assert.equal(s.stray.length, 3);
  for (const e of s.stray) {
    assert.equal(e.type, 'error');
    assert.equal(e.error.type, 'invalid_request_error');
    assert.equal(typeof e.error.message, 'string');
  }
  assert.equal(badParam.error.error.param, 'top_p');
  assert.equal(badParam.error.error.type, 'invalid_request_error');
  assert.equal(unknownType.error.error.param, 'type');
  assert.equal(tooLong.error.error.code, 'context_length_exceeded');
  assert.equal(badVocab.error.error.param, 'prompt');
  assert.equal(wrongModel.error.error.code, 'model_not_found');
  for (const r of [badParam, tooLong, badVocab, wrongModel]) {
    assert.equal(r.done, null);
    assert.equal(r.tokens.length, 0);
  }
  // a duplicate id while the first is in flight is refused; the first goes on
  const first = s.request('dup');
  s.send({ type: 'generate', id: 'dup', prompt: 'Once', max_tokens: 200, ignore_eos: true });
  s.send({ type: 'generate', id: 'dup', prompt: 'Twice', max_tokens: 2 });
  await first.finished;
  assert.equal(first.error.error.code, 'duplicate_id');
  await new Promise((res) => setTimeout(res, 0));
  // and after all that the socket still generates
  const ok = await s.generate('ok', { prompt: cases[1].prompt, max_tokens: cases[1].maxTokens, temperature: 0 });
  assert.deepEqual(ok.tokens.map((t) => t.token_id), cases[1].output_ids);
  await s.close();
});
