// 48 concurrent streams (24 SSE through the OpenAI SDK, 24 over three
// WebSockets) into a KV pool of 40 blocks (640 token slots for ~4,300 tokens), far too small for them: the
// scheduler must preempt, and no stream may lose or repeat a token. Each
// stream is compared with llama2.c's reference, under both preemption modes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { cases } from './lib/reference.mjs';
import { metrics, sample, startServer } from './lib/server.mjs';
import { connect } from './lib/ws.mjs';

// Each stream's first kNumTokens reference tokens: short enough to keep the
// test quick, long enough that 48 of them need far more than 40 blocks.
const kNumTokens = 80;
const trimmed = cases.map((c) => ({ ...c, maxTokens: kNumTokens, output_ids: c.output_ids.slice(0, kNumTokens) }));

async function sseStream(client, c) {
  const stream = await client.completions.create({
    model: 'stories260K', prompt: c.prompt, max_tokens: c.maxTokens, temperature: 0, stream: true,
    logprobs: 0, return_tokens_as_token_ids: true,
  });
  const ids = [];
  for await (const chunk of stream)
    for (const t of chunk.choices[0].logprobs?.tokens ?? []) ids.push(Number(t.slice('token_id:'.length)));
  return ids;
}

async function run(mode) {
  const server = await startServer(['--num-blocks', '40', '--max-num-seqs', '48', '--preemption-mode', mode]);
  try {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const sockets = await Promise.all([0, 1, 2].map(() => connect(server.url)));
    const streams = [];
    for (let i = 0; i < 48; ++i) {
      const c = trimmed[i % trimmed.length];
      const got = i % 2 === 0
        ? sseStream(client, c)
        : sockets[i % 3].generate(`s${i}`, { prompt: c.prompt, max_tokens: c.maxTokens, temperature: 0 })
          .then((r) => { assert.equal(r.done?.finish_reason, 'length', JSON.stringify(r.error)); return r.tokens.map((t) => t.token_id); });
      streams.push(got.then((ids) => ({ i, c, ids })));
    }
    for (const { i, c, ids } of await Promise.all(streams))
      assert.deepEqual(ids, c.output_ids, `stream ${i} (${i % 2 === 0 ? 'SSE' : 'WebSocket'}, prompt ${JSON.stringify(c.prompt)})`);
    const m = await metrics(server.url);
    const preemptions = sample(m, 'pagedserve_preemptions_total', { mode });
    assert.ok(preemptions > 0, `no ${mode} preemption happened`);
    assert.equal(sample(m, 'pagedserve_kv_blocks_used', { pool: 'gpu' }), 0);
    await Promise.all(sockets.map((s) => s.close()));
    return preemptions;
  } finally {
    await server.stop();
  }
}

test('48 streams through 40 blocks with recompute preemption lose and repeat no token', async () => {
  const n = await run('recompute');
  console.log(`# recompute preemptions: ${n}`);
});

test('48 streams through 40 blocks with swap preemption lose and repeat no token', async () => {
  const n = await run('swap');
  console.log(`# swap preemptions: ${n}`);
});
