// The daemon's lifecycle as systemd drives it. SIGTERM while a WebSocket
// stream and an SSE stream run: both end with their final message (`done`,
// `data: [DONE]`), the WebSocket is closed with 1001 (going away), new
// connections are refused, and the process exits 0 within the drain timeout;
// a second SIGTERM during the drain exits at once with status 4. SIGHUP reopens the log file (after rotation) and
// reloads the log level from the config file. Every finished request leaves
// one log line with its id, tokens, timings and finish reason.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { eventually, startServer } from './lib/server.mjs';
import { connect } from './lib/ws.mjs';

// stories260K's context is 512 tokens: a stream of 480 takes a few hundred
// milliseconds on a CPU, long enough to be cut in the middle.
const kLong = { max_tokens: 480, ignore_eos: true, temperature: 0 };

// Streams a completion over SSE; resolves with its chunks and whether the
// stream ended with `data: [DONE]`. `onFirst` runs when the first token comes.
async function sse(url, prompt, onFirst) {
  const response = await fetch(`${url}/v1/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt, stream: true, ...kLong }),
  });
  assert.equal(response.status, 200);
  const decoder = new TextDecoder();
  let text = '';
  let first = true;
  for await (const piece of response.body) {
    text += decoder.decode(piece, { stream: true });
    if (first && text.includes('"text"')) {
      first = false;
      onFirst?.();
    }
  }
  const events = text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice('data: '.length));
  const sawDone = events.at(-1) === '[DONE]';
  const chunks = events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e));
  return { chunks, sawDone };
}

const finishReason = (chunks) => chunks.map((c) => c.choices[0].finish_reason).find((r) => r);
const tokensOf = (chunks) => chunks.filter((c) => c.choices[0].text !== '').length;

// Starts one WebSocket and one SSE stream, sends SIGTERM once both have
// produced a token, and returns what each client saw and how the process ended.
async function terminateMidStream(server) {
  const socket = await connect(server.url);
  let firstTokens = 0;
  let signalled;
  const termSent = new Promise((resolve) => { signalled = resolve; });
  const onFirst = () => {
    if (++firstTokens !== 2) return;
    server.child.kill('SIGTERM');
    signalled(Date.now());
  };
  const wsClosed = new Promise((resolve) => socket.ws.once('close', (code) => resolve(code)));
  const wsRecord = socket.request('w1');
  socket.ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === 'token' && m.id === 'w1' && wsRecord.tokens.length === 1) onFirst();
  });
  socket.send({ type: 'generate', id: 'w1', prompt: 'Once upon a time', ...kLong });
  const [sseResult] = await Promise.all([sse(server.url, 'The little dog', onFirst), wsRecord.finished]);
  const sentAt = await termSent;
  const afterTerm = await fetch(`${server.url}/health`).then((r) => r.status, (e) => e.cause?.code ?? e.name);
  const code = await server.exited;
  const exitMs = Date.now() - sentAt;
  return { ws: wsRecord, wsCloseCode: await wsClosed, sse: sseResult, code, exitMs, afterTerm };
}

test('SIGTERM mid-stream: both streams finish within the drain timeout and the process exits 0', async () => {
  const server = await startServer(['--drain-timeout', '20', '--log-level', 'info']);
  const r = await terminateMidStream(server);
  assert.equal(r.ws.error, null, JSON.stringify(r.ws.error));
  assert.equal(r.ws.done?.finish_reason, 'length');
  assert.equal(r.ws.tokens.length, kLong.max_tokens, 'the WebSocket stream ran to its end');
  assert.ok(r.sse.sawDone, 'the SSE stream ended with data: [DONE]');
  assert.equal(finishReason(r.sse.chunks), 'length');
  assert.notEqual(r.afterTerm, 200, 'no new requests once stopping');
  assert.equal(r.wsCloseCode, 1001, 'the server closes the WebSocket with "going away"');
  assert.equal(r.code, 0);
  assert.ok(r.exitMs < 20000, `exited ${r.exitMs} ms after SIGTERM`);
  console.log(`# exited ${r.exitMs} ms after SIGTERM; new connection got ${r.afterTerm}`);
  const log = server.log();
  assert.match(log, /msg="stopping; draining in-flight requests"/);
  const done = log.split('\n').filter((l) => l.includes('msg="request done"'));
  assert.equal(done.length, 2, log);
  for (const line of done) {
    assert.match(line, /level=info .* id=\S+ prompts=1 n=1 prompt_tokens=\d+ cached_prompt_tokens=\d+ completion_tokens=480 ttft_ms=[\d.]+ duration_ms=[\d.]+ finish_reason=length/);
  }
  assert.ok(done.some((l) => / id=ws\d+-w1 /.test(l)), 'the WebSocket request is logged under its id');
  assert.match(log, /msg=stopped/);
});

test('streams still running when the drain timeout ends are cancelled with their final message', async () => {
  const server = await startServer(['--drain-timeout', '0', '--log-level', 'info']);
  const r = await terminateMidStream(server);
  assert.equal(r.ws.done?.finish_reason, 'cancelled', JSON.stringify(r.ws.done ?? r.ws.error));
  assert.ok(r.ws.tokens.length < kLong.max_tokens);
  assert.ok(r.sse.sawDone, 'the SSE stream ended with data: [DONE]');
  assert.equal(finishReason(r.sse.chunks), 'cancelled');
  assert.ok(tokensOf(r.sse.chunks) < kLong.max_tokens);
  assert.equal(r.wsCloseCode, 1001);
  assert.equal(r.code, 0);
  assert.ok(r.exitMs < 3000, `exited ${r.exitMs} ms after SIGTERM`);
  console.log(`# cut after ${r.ws.tokens.length} (WebSocket) and ${tokensOf(r.sse.chunks)} (SSE) tokens; exited ${r.exitMs} ms after SIGTERM`);
  assert.equal(server.log().split('\n').filter((l) => /msg="request done" .*finish_reason=cancelled/.test(l)).length, 2);
});

test('a second SIGTERM during the drain exits at once with status 4', async () => {
  const server = await startServer(['--drain-timeout', '20', '--log-level', 'info']);
  // 128 streams of 480 tokens: seconds of work even on fast cores, so the drain is long.
  const socket = await connect(server.url);
  let streaming;
  const firstToken = new Promise((resolve) => { streaming = resolve; });
  socket.ws.on('message', (data) => { if (JSON.parse(data.toString()).type === 'token') streaming(); });
  for (let i = 0; i < 128; ++i) socket.send({ type: 'generate', id: `g${i}`, prompt: 'Once upon a time', ...kLong });
  await firstToken;
  let exited = false;
  server.exited.then(() => { exited = true; });
  server.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(exited, false, 'the first SIGTERM drains: the process is still running');
  const sentAt = Date.now();
  server.child.kill('SIGTERM');
  const code = await server.exited;
  const exitMs = Date.now() - sentAt;
  console.log(`# exited ${exitMs} ms after the second SIGTERM`);
  assert.equal(code, 4);
  assert.ok(exitMs < 2000, `exited ${exitMs} ms after the second SIGTERM`);
  assert.match(server.log(), /level=warning msg="second stop signal; exiting without waiting for the drain"/);
  const unfinished = [...Array(128).keys()].filter((i) => socket.request(`g${i}`).done === null);
  assert.ok(unfinished.length > 0, 'streams were cut, not drained');
});

test('SIGHUP reopens the log file after rotation and reloads the log level', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedserve-log-'));
  const logFile = path.join(dir, 'pagedserve.log');
  const config = path.join(dir, 'pagedserve.json');
  fs.writeFileSync(config, JSON.stringify({ log_level: 'warning', log_file: logFile, num_gpu_blocks: 256 }));
  const server = await startServer(['--config', config], { defaults: false });
  const complete = () => fetch(`${server.url}/v1/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt: 'Once', max_tokens: 8 }),
  }).then((r) => assert.equal(r.status, 200));
  const hup = async (expect) => {
    server.child.kill('SIGHUP');
    assert.ok(await eventually(() => fs.existsSync(logFile) && expect(fs.readFileSync(logFile, 'utf8')), 5000),
      'the server answered SIGHUP');
  };
  try {
    await complete();
    assert.doesNotMatch(fs.readFileSync(logFile, 'utf8'), /request done/, 'info lines are below warning');
    // Rotate: the old file is renamed; the server keeps writing to it until SIGHUP.
    fs.renameSync(logFile, `${logFile}.1`);
    fs.writeFileSync(config, JSON.stringify({ log_level: 'info', log_file: logFile, num_gpu_blocks: 256 }));
    await hup((text) => /msg=reloaded/.test(text));
    await complete();
    assert.ok(await eventually(() => /msg="request done" .*completion_tokens=8 /.test(fs.readFileSync(logFile, 'utf8'))));
    assert.doesNotMatch(fs.readFileSync(`${logFile}.1`, 'utf8'), /request done/);
    // A bad level in the file keeps the current one.
    fs.writeFileSync(config, JSON.stringify({ log_level: 'loud', log_file: logFile }));
    await hup((text) => /reload failed; keeping the log level/.test(text));
    await complete();
    assert.ok(await eventually(() => fs.readFileSync(logFile, 'utf8').split('msg="request done"').length === 3));
  } finally {
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
