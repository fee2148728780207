// One client cannot make the server hold more for it than the documented
// per-connection bounds: a WebSocket that floods bad messages and never
// reads is closed with 1008 (policy violation) while the server's memory
// stays flat.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer } from './lib/server.mjs';
import { openRaw, readToEnd, residentBytes, textFrame, writeAll } from './lib/raw_ws.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

// ~3 MB of one-byte invalid messages: each one earns a ~150-byte error
// frame, so an unbounded queue would grow by hundreds of megabytes.
function flood() {
  const batch = Buffer.concat(Array(10000).fill(textFrame('x')));
  return Array(40).fill(batch);
}

// The server's largest RSS above `base` while it works through what it has
// read: sampled until it stops growing for a second (at most 8 s).
async function peakGrowth(pid, base) {
  let peak = 0;
  let still = 0;
  for (let i = 0; i < 80 && still < 10; ++i) {
    const grown = (await residentBytes(pid)) - base;
    still = grown > peak ? 0 : still + 1;
    peak = Math.max(peak, grown);
    await new Promise((r) => setTimeout(r, 100));
  }
  return peak;
}

test('a WebSocket client that floods bad messages and never reads is closed with 1008; memory stays bounded', async () => {
  const before = await residentBytes(server.child.pid);
  const socket = await openRaw(server.port);
  const sent = await writeAll(socket, flood());
  const grown = await peakGrowth(server.child.pid, before);
  console.log(`flood: ${(sent / 1e6).toFixed(1)} MB sent, server RSS grew ${(grown / 1e6).toFixed(1)} MB`);
  assert.ok(grown < 48e6, `the server grew by ${grown} bytes`);
  const { texts, closeCode } = await readToEnd(socket);
  assert.equal(closeCode, 1008);
  assert.ok(texts.length > 0 && texts.every((t) => JSON.parse(t).type === 'error'));
  // The server is still fine for everyone else.
  const r = await fetch(`${server.url}/v1/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt: 'Once', max_tokens: 4 }),
  });
  assert.equal(r.status, 200);
});
