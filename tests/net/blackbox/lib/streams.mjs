// Streamed completions read token by token, and /health polled until it
// turns 503: what the tests of executors in other processes watch.

import assert from 'node:assert/strict';
import { sleep } from './server.mjs';

// A streamed completion's token ids, finish reasons and error, read from
// the SSE frames. `onToken` runs at each token.
export async function stream(url, body, onToken = () => {}) {
  const r = await fetch(`${url}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'stories260K', temperature: 0, stream: true, logprobs: 0,
      return_tokens_as_token_ids: true, ...body }),
  });
  assert.equal(r.status, 200);
  const ids = [];
  let finish = null;
  let error = null;
  let buffered = '';
  for await (const chunk of r.body) {
    buffered += Buffer.from(chunk).toString('utf8');
    let end;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const frame = buffered.slice(0, end).replace(/^data: /, '');
      buffered = buffered.slice(end + 2);
      if (frame === '[DONE]') continue;
      const data = JSON.parse(frame);
      if (data.error) { error = data.error; continue; }
      for (const t of data.choices[0].logprobs?.tokens ?? []) {
        ids.push(Number(t.slice('token_id:'.length)));
        onToken(ids.length);
      }
      finish = data.choices[0].finish_reason ?? finish;
    }
  }
  return { ids, finish, error };
}

// Polls /health until it answers 503 or `ms` pass since `since`: the last
// answer, with how long after `since` it came (null if the server exited).
export async function healthUntil503(url, since, ms) {
  let health = null;
  while (Date.now() - since < ms) {
    try {
      const r = await fetch(`${url}/health`);
      health = { status: r.status, body: await r.json(), after: Date.now() - since };
      if (r.status === 503) break;
    } catch { break; /* the server exited */ }
    await sleep(10);
  }
  return health;
}

// Starts `count` long streams of `prompt` and SIGKILLs the `victim` child
// process once one of them has 4 tokens: the engine loses a process
// mid-stream. Returns /health's first 503 after the kill (healthUntil503)
// and how every stream ended, in that order.
export async function streamsAcrossAKill(url, { count, prompt, victim }) {
  let killedAt = null;
  const kill = (n) => {
    if (n < 4 || killedAt !== null) return;
    killedAt = Date.now();
    victim.kill('SIGKILL');
  };
  const streams = [];
  for (let i = 0; i < count; ++i) streams.push(stream(url, { prompt, max_tokens: 480, ignore_eos: true }, kill));
  while (killedAt === null) await sleep(1);
  const health = await healthUntil503(url, killedAt, 3000);
  return { health, ended: await Promise.all(streams) };
}
