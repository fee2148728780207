// A crash loses nothing that was promised. 64 streams (48 over four
// WebSockets, 16 over SSE) run through a KV pool far too small for them, so
// the scheduler is preempting, when the server is killed with SIGKILL. Every
// client sees its connection fail, and every token it received before that
// is the greedy reference's: none wrong, none repeated. The server restarted
// on the same port answers within seconds (the old connections' TIME_WAIT
// does not block the bind) and streams the reference again.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cases } from './lib/reference.mjs';
import { eventually, metrics, sample, startServer } from './lib/server.mjs';
import { connect } from './lib/ws.mjs';

const kStreams = 64;
const kMaxTokens = 200;
const kFlags = ['--num-blocks', '40', '--max-num-seqs', '64', '--preemption-mode', 'recompute'];
const trimmed = cases.map((c) => {
  const maxTokens = Math.min(c.maxTokens, kMaxTokens);
  return { ...c, maxTokens, output_ids: c.output_ids.slice(0, maxTokens) };
});

// An SSE stream whose token ids are recorded in `ids` as they arrive; resolves
// with how it ended ('done', or the error that cut it).
async function sseStream(url, c, ids) {
  try {
    const response = await fetch(`${url}/v1/completions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: c.prompt, max_tokens: c.maxTokens, temperature: 0, stream: true,
        logprobs: 0, return_tokens_as_token_ids: true }),
    });
    const decoder = new TextDecoder();
    let pending = '';
    for await (const piece of response.body) {
      pending += decoder.decode(piece, { stream: true });
      const events = pending.split('\n\n');
      pending = events.pop();
      for (const e of events) {
        if (!e.startsWith('data: ') || e === 'data: [DONE]') continue;
        for (const t of JSON.parse(e.slice(6)).choices[0].logprobs?.tokens ?? []) ids.push(Number(t.slice('token_id:'.length)));
      }
    }
    return pending === '' ? 'done' : 'cut';
  } catch (e) {
    return e.cause?.code ?? e.name;
  }
}

test('SIGKILL under preemption: clients see errors, never a wrong or repeated token; the restart binds at once', async () => {
  const first = await startServer(kFlags);
  const sockets = await Promise.all([0, 1, 2, 3].map(() => connect(first.url)));
  const socketClosed = sockets.map((s) => new Promise((r) => s.ws.once('close', (code) => r(code))));
  const streams = [];
  for (let i = 0; i < kStreams; ++i) {
    const c = trimmed[i % trimmed.length];
    if (i % 4 === 0) {
      const ids = [];
      streams.push({ i, c, ids, ended: sseStream(first.url, c, ids), kind: 'SSE' });
    } else {
      const r = sockets[i % 4].request(`s${i}`);
      sockets[i % 4].send({ type: 'generate', id: `s${i}`, prompt: c.prompt, max_tokens: c.maxTokens, temperature: 0 });
      streams.push({ i, c, record: r, kind: 'WebSocket' });
    }
  }
  const received = () => streams.reduce((n, s) => n + (s.ids ?? s.record.tokens).length, 0);
  assert.ok(await eventually(() => received() >= 1000, 30000), `only ${received()} tokens in 30 s`);
  assert.ok(await eventually(async () => sample(await metrics(first.url), 'pagedserve_preemptions_total',
    { mode: 'recompute' }) > 0, 30000), 'no preemption before the kill');
  first.child.kill('SIGKILL');
  const killedAt = Date.now();
  assert.equal(await first.exited, null);  // killed by the signal

  // Restart on the same port while the old connections close.
  const second = await startServer(kFlags, { port: first.port });
  const restartMs = Date.now() - killedAt;
  console.log(`# ${received()} tokens received before the kill; healthy again on port ${first.port} after ${restartMs} ms`);
  assert.ok(restartMs < 15000, `restart took ${restartMs} ms`);

  const closeCodes = await Promise.all(socketClosed);
  assert.ok(closeCodes.every((code) => code === 1006), `WebSocket close codes ${closeCodes}: an abnormal closure`);
  let cut = 0;
  for (const s of streams) {
    const ids = s.ids ?? s.record.tokens.map((t) => t.token_id);
    if (s.ended) {
      const how = await s.ended;
      assert.notEqual(how, 'done', `SSE stream ${s.i} claims to have finished`);
    } else {
      assert.equal(s.record.done, null, `WebSocket stream ${s.i} got a done frame`);
      assert.deepEqual(s.record.tokens.map((t) => t.index), ids.map(() => 0));
    }
    assert.deepEqual(ids, s.c.output_ids.slice(0, ids.length), `${s.kind} stream ${s.i}: tokens before the kill`);
    if (ids.length < s.c.maxTokens) ++cut;
  }
  assert.ok(cut > 0, 'the kill cut streams short');

  // The restarted server streams the reference.
  try {
    const socket = await connect(second.url);
    const again = await Promise.all(trimmed.map((c, k) => socket.generate(`again${k}`,
      { prompt: c.prompt, max_tokens: 32, temperature: 0 })));
    again.forEach((r, k) => assert.deepEqual(r.tokens.map((t) => t.token_id), trimmed[k].output_ids.slice(0, 32)));
    await socket.close();
  } finally {
    await second.stop();
  }
});
