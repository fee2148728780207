// A server whose executor runs in another process (`pagedserve worker`,
// reached over 127.0.0.1): it reproduces llama2.c's stories260K references
// exactly, also under swap and recompute preemption; a worker killed
// mid-stream ends every open stream with an error and turns /health to 503
// engine_dead within a second; a restarted worker and server serve again;
// a worker stopped with SIGTERM exits and ends its server's engine; a
// worker with another model is refused by name.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cases } from './lib/reference.mjs';
import { metrics, sample, sleep, startServer } from './lib/server.mjs';
import { healthUntil503, stream, streamsAcrossAKill } from './lib/streams.mjs';
import { startWorker } from './lib/worker.mjs';

async function withWorkerAndServer(serverFlags, body) {
  const worker = await startWorker();
  try {
    const server = await startServer(['--executor', worker.endpoint, ...serverFlags]);
    try {
      return await body(server, worker);
    } finally {
      await server.stop();
    }
  } finally {
    await worker.stop();
  }
}

test('a server with a worker process reproduces every stories260K reference exactly', async () => {
  await withWorkerAndServer([], async (server) => {
    const got = await Promise.all(cases.map((c) => stream(server.url, { prompt: c.prompt, max_tokens: c.maxTokens })));
    got.forEach((g, i) => assert.deepEqual(g.ids, cases[i].output_ids, `prompt ${JSON.stringify(cases[i].prompt)}`));
  });
});

// 24 streams of 80 tokens through 20 blocks (320 token slots for ~2,100
// tokens): the server's block manager must preempt, and the worker's KV
// cache must follow its swaps and recomputes.
for (const mode of ['recompute', 'swap']) {
  test(`a worker's streams lose and repeat no token under ${mode} preemption`, async () => {
    await withWorkerAndServer(['--num-blocks', '20', '--max-num-seqs', '24', '--preemption-mode', mode],
      async (server) => {
        const kNumTokens = 80;
        const streams = [];
        for (let i = 0; i < 24; ++i) {
          const c = cases[i % cases.length];
          streams.push(stream(server.url, { prompt: c.prompt, max_tokens: kNumTokens })
            .then((g) => assert.deepEqual(g.ids, c.output_ids.slice(0, kNumTokens), `stream ${i}`)));
        }
        await Promise.all(streams);
        const m = await metrics(server.url);
        assert.ok(sample(m, 'pagedserve_preemptions_total', { mode }) > 0, `no ${mode} preemption happened`);
        assert.equal(sample(m, 'pagedserve_kv_blocks_used', { pool: 'gpu' }), 0);
      });
  });
}

test('killing the worker mid-stream ends the streams with errors and /health turns 503 within a second', async () => {
  const worker = await startWorker();
  const server = await startServer(['--executor', worker.endpoint]);
  const { health, ended } = await streamsAcrossAKill(server.url, { count: 32, prompt: cases[5].prompt, victim: worker.child });
  assert.equal(health?.status, 503, `health after the kill: ${JSON.stringify(health)}`);
  assert.equal(health.body.status, 'engine_dead');
  assert.match(health.body.error, /executor_unreachable/);
  assert.ok(health.after < 1000, `503 came ${health.after} ms after the kill`);
  const errors = ended.filter((g) => g.error);
  assert.ok(errors.length > 0, 'no stream ended with an error');
  for (const g of ended) {
    if (g.error) assert.match(g.error.message, /the engine stopped working: executor_unreachable/);
    else assert.equal(g.finish, 'length');  // finished before the kill
  }
  assert.equal(await server.exited, 1, 'the server exits non-zero with a dead engine');
  await worker.exited;

  // Both restarted, on the same worker port: the model serves again.
  const again = await startWorker({ port: worker.port });
  try {
    const restarted = await startServer(['--executor', again.endpoint]);
    try {
      const g = await stream(restarted.url, { prompt: cases[1].prompt, max_tokens: cases[1].maxTokens });
      assert.deepEqual(g.ids, cases[1].output_ids);
    } finally {
      await restarted.stop();
    }
  } finally {
    await again.stop();
  }
});

test('a worker stopped with SIGTERM while serving exits, and its server turns 503', async () => {
  const worker = await startWorker();
  const server = await startServer(['--executor', worker.endpoint]);
  const stoppedAt = Date.now();
  assert.equal(await Promise.race([worker.stop('SIGTERM'), sleep(5000).then(() => 'still running')]), 0);
  // The server's engine is dead: /health says so until the server, which
  // exits on a dead engine, is gone (a poll may miss that short window).
  const health = await healthUntil503(server.url, stoppedAt, 5000);
  if (health?.status === 503) assert.match(health.body.error, /worker_stopped|executor_unreachable/);
  assert.equal(await Promise.race([server.exited, sleep(5000).then(() => 'still running')]), 1);
});

test('a worker serving another model is refused by name, and a worker serves one server at a time', async () => {
  const other = await startWorker({ model: 'dummy:stories260K' });
  try {
    await assert.rejects(startServer(['--executor', other.endpoint]),
      /the worker at 127\.0\.0\.1:\d+ serves the model 'dummy-stories260K', not this server's 'stories260K'/);
  } finally {
    await other.stop();
  }
  const worker = await startWorker();
  try {
    const first = await startServer(['--executor', worker.endpoint]);
    await assert.rejects(startServer(['--executor', worker.endpoint]), /worker_refused: it serves another server/);
    const g = await stream(first.url, { prompt: cases[3].prompt, max_tokens: cases[3].maxTokens });
    assert.deepEqual(g.ids, cases[3].output_ids);
    assert.equal(await first.stop(), 0);
    // The first server is gone: its executor ended with it, and the worker
    // takes the next server (within two seconds).
    let next = null;
    for (const deadline = Date.now() + 2000; !next;) {
      try {
        next = await startServer(['--executor', worker.endpoint]);
      } catch (e) {
        if (!/it serves another server/.test(e.message) || Date.now() > deadline) throw e;
        await sleep(100);
      }
    }
    try {
      const h = await stream(next.url, { prompt: cases[2].prompt, max_tokens: cases[2].maxTokens });
      assert.deepEqual(h.ids, cases[2].output_ids);
    } finally {
      await next.stop();
    }
  } finally {
    await worker.stop();
  }
});
