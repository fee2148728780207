// Closing an SSE connection mid-stream cancels the request and frees its
// KV blocks at once, as /admin/pool, /admin/seqs and /metrics show.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { eventually, metrics, sample, startServer } from './lib/server.mjs';

let server, client;
before(async () => {
  server = await startServer();
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => { await server?.stop(); });

const pool = async () => (await (await fetch(`${server.url}/admin/pool`)).json()).gpu;
const seqs = async () => (await (await fetch(`${server.url}/admin/seqs`)).json()).seqs;

test('aborting an SSE stream frees its blocks', async () => {
  const controller = new AbortController();
  const stream = await client.completions.create({
    model: 'stories260K', prompt: 'Once upon a time', max_tokens: 480, n: 4, ignore_eos: true, temperature: 1, stream: true,
  }, { signal: controller.signal });
  let chunks = 0;
  let usedWhileRunning = 0, seqsWhileRunning = 0;
  try {
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'text_completion');
      if (++chunks === 8) {
        usedWhileRunning = (await pool()).used;
        seqsWhileRunning = (await seqs()).length;
        controller.abort();
      }
    }
  } catch (e) {
    assert.ok(e.name === 'APIUserAbortError' || e.name === 'AbortError', e.name);
  }
  assert.ok(usedWhileRunning > 0, 'blocks in use while streaming');
  assert.equal(seqsWhileRunning, 4, 'the four samples are live sequences');
  const start = Date.now();
  assert.ok(await eventually(async () => (await pool()).used === 0, 2000), 'blocks freed after the client left');
  console.log(`# blocks freed ${Date.now() - start} ms after the abort (${usedWhileRunning} were in use)`);
  assert.equal((await seqs()).length, 0);
  const m = await metrics(server.url);
  assert.equal(sample(m, 'pagedserve_requests_cancelled_total', { cause: 'client' }), 1);
  assert.equal(sample(m, 'pagedserve_num_requests_running'), 0);
  assert.equal(sample(m, 'pagedserve_kv_blocks_used', { pool: 'gpu' }), 0);
});

test('closing a non-streamed request mid-generation frees its blocks too', async () => {
  const controller = new AbortController();
  const pending = fetch(`${server.url}/v1/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, signal: controller.signal,
    body: JSON.stringify({ prompt: 'The little cat', max_tokens: 480, n: 2, ignore_eos: true }),
  }).catch((e) => e);
  assert.ok(await eventually(async () => (await pool()).used > 0, 3000), 'the request is running');
  controller.abort();
  assert.equal((await pending).name, 'AbortError');
  assert.ok(await eventually(async () => (await pool()).used === 0, 2000));
  const m = await metrics(server.url);
  assert.equal(sample(m, 'pagedserve_requests_cancelled_total', { cause: 'client' }), 2);
});
