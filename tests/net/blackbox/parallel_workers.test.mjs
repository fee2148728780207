// A model split over worker processes on 127.0.0.1, their activations
// exchanged over Gloo, each worker with OMP_NUM_THREADS=1: stories260K (8
// heads, 4 KV heads) in tensor parallel 2, pipeline parallel 2 and tensor
// parallel 2 x pipeline parallel 2 reproduces llama2.c's references
// exactly, also under recompute and swap preemption; workers serve one
// server after another; a worker at the wrong place is refused by its
// --rank; a rank killed mid-stream ends every open stream with an error
// and turns /health 503 within a second, and a restarted worker and
// server serve again.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cases } from './lib/reference.mjs';
import { metrics, sample, sleep, startServer } from './lib/server.mjs';
import { stream, streamsAcrossAKill } from './lib/streams.mjs';
import { startWorker } from './lib/worker.mjs';

const kOneThread = { OMP_NUM_THREADS: '1' };

const startWorkers = (n, { ranked = false } = {}) =>
  Promise.all(Array.from({ length: n }, (_, r) =>
    startWorker({ env: kOneThread, args: ranked ? ['--rank', String(r)] : [] })));

const splitFlags = (tp, pp, workers) => ['--tensor-parallel-size', String(tp), '--pipeline-parallel-size', String(pp),
  ...workers.flatMap((w) => ['--executor', w.endpoint])];

// A server with `flags`, stopped (exit 0) after `body`.
async function withServer(flags, body) {
  const server = await startServer(flags);
  try {
    return await body(server);
  } finally {
    assert.equal(await server.stop(), 0);
  }
}

async function referencesExactly(server) {
  const got = await Promise.all(cases.map((c) => stream(server.url, { prompt: c.prompt, max_tokens: c.maxTokens })));
  got.forEach((g, i) => assert.deepEqual(g.ids, cases[i].output_ids, `prompt ${JSON.stringify(cases[i].prompt)}`));
}

// 24 streams of 80 tokens through 20 blocks (320 token slots for ~2,100
// tokens): the block manager must preempt, and every rank's KV cache must
// follow its swaps and recomputes.
async function noTokenLostUnderPreemption(server, mode) {
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
}

const preempting = (mode) => ['--num-blocks', '20', '--max-num-seqs', '24', '--preemption-mode', mode];

// Workers take one server after another: a second server is accepted once
// the first one's executors have ended (within two seconds). A server that
// does not come up brings its workers' logs into the error.
async function nextServer(flags, workers = []) {
  for (const deadline = Date.now() + 2000; ;) {
    try {
      return await startServer(flags);
    } catch (e) {
      if (!/it serves another server/.test(e.message) || Date.now() > deadline)
        throw new Error([e.message, ...workers.map((w) => `worker ${w.endpoint}:\n${w.log()}`)].join('\n'));
      await sleep(100);
    }
  }
}

test('tensor parallel 2 over two workers: the references, then recompute and swap preemption', async () => {
  const workers = await startWorkers(2, { ranked: true });
  try {
    // A worker started with --rank is refused at another place, by name.
    await assert.rejects(startServer(splitFlags(2, 1, [workers[1], workers[0]])),
      /the worker at 127\.0\.0\.1:\d+ is --rank 1, but is the 1st --executor \(rank 0\)/);
    const flags = splitFlags(2, 1, workers);
    const first = await nextServer(flags);
    try {
      await referencesExactly(first);
      const h = await (await fetch(`${first.url}/health`)).json();
      assert.equal(h.status, 'ok');
    } finally {
      assert.equal(await first.stop(), 0);
    }
    for (const mode of ['recompute', 'swap']) {
      const server = await nextServer([...flags, ...preempting(mode)]);
      try {
        await noTokenLostUnderPreemption(server, mode);
      } finally {
        assert.equal(await server.stop(), 0);
      }
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
});

test('pipeline parallel 2 over two workers: the references, and swap preemption', async () => {
  const workers = await startWorkers(2);
  try {
    const flags = splitFlags(1, 2, workers);
    await withServer(flags, referencesExactly);
    const server = await nextServer([...flags, ...preempting('swap')]);
    try {
      await noTokenLostUnderPreemption(server, 'swap');
    } finally {
      assert.equal(await server.stop(), 0);
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
});

test('tensor parallel 2 x pipeline parallel 2 over four workers: the references, and recompute preemption', async () => {
  const workers = await startWorkers(4);
  try {
    const flags = splitFlags(2, 2, workers);
    await withServer(flags, referencesExactly);
    const server = await nextServer([...flags, ...preempting('recompute')]);
    try {
      await noTokenLostUnderPreemption(server, 'recompute');
    } finally {
      assert.equal(await server.stop(), 0);
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
});

test('killing one rank mid-stream ends every stream with an error and turns /health 503 within a second', async () => {
  const workers = await startWorkers(2);
  const [survivor, victim] = workers;
  try {
    const server = await startServer(splitFlags(2, 1, workers));
    const { health, ended } = await streamsAcrossAKill(server.url, { count: 16, prompt: cases[5].prompt, victim: victim.child });
    assert.equal(health?.status, 503, `health after the kill: ${JSON.stringify(health)}`);
    assert.equal(health.body.status, 'engine_dead');
    // The rank group names the rank: its link was lost, or its peer's step
    // failed first (the collective's connection was reset).
    assert.match(health.body.error, /rank_failed: rank [01] \(127\.0\.0\.1:\d+\): (executor_unreachable|step_failed)/);
    assert.ok(health.after < 1000, `503 came ${health.after} ms after the kill`);
    assert.ok(ended.some((g) => g.error), 'no stream ended with an error');
    for (const g of ended) {
      if (g.error) assert.match(g.error.message, /the engine stopped working: rank_failed/);
      else assert.equal(g.finish, 'length');  // finished before the kill
    }
    assert.equal(await server.exited, 1, 'the server exits non-zero with a dead engine');
    await victim.exited;

    // The killed rank restarted on its port, the surviving worker as it
    // was, and a new server: the model serves again.
    const again = await startWorker({ port: victim.port, env: kOneThread });
    workers[1] = again;
    const restarted = await nextServer(splitFlags(2, 1, [survivor, again]), [survivor, again]);
    try {
      const g = await stream(restarted.url, { prompt: cases[1].prompt, max_tokens: cases[1].maxTokens });
      assert.deepEqual(g.ids, cases[1].output_ids);
    } finally {
      assert.equal(await restarted.stop(), 0);
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
});
