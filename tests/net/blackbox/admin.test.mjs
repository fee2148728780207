// The admin console while requests run: `pagedserve admin` piped commands,
// and the /admin/ page rendered by headless Chromium (skipped when the
// chromium package is not installed).

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { binary, startServer } from './lib/server.mjs';
import { connect } from './lib/ws.mjs';

let server, socket;
const running = [];

before(async () => {
  server = await startServer(['--num-blocks', '96', '--max-num-seqs', '6']);
  socket = await connect(server.url);
  // Long requests sharing prompts (n = 2), more than fit at once: sequences
  // running, waiting and sharing blocks while the console looks.
  for (let i = 0; i < 6; ++i)
    running.push(socket.generate(`story-${i}`, { prompt: 'Once upon a time', n: 2, max_tokens: 480, ignore_eos: true }));
  const seqs = async () => (await (await fetch(`${server.url}/admin/seqs`)).json()).seqs.length;
  while (await seqs() === 0) await new Promise((r) => setTimeout(r, 10));
});

after(async () => {
  for (let i = 0; i < 6; ++i) socket.send({ type: 'cancel', id: `story-${i}` });
  await Promise.all(running);
  await socket.close();
  await server.stop();
});

function runConsole(input) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['admin', '--url', server.url], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
    child.stdin.end(input);
  });
}

test('pagedserve admin reads piped commands and shows live sequences, pools and queues', async () => {
  const seqs = (await (await fetch(`${server.url}/admin/seqs`)).json()).seqs;
  const { code, out } = await runConsole(`seqs\nseq ${seqs[0].seq_id}\npool\nqueues\nprefix\ncounters\nseq x\nfrobnicate\nhelp\nquit\npool\n`);
  assert.equal(code, 0);
  assert.match(out, /\d+ live sequences, block size 16/);
  assert.match(out, /ws\d+-story-\d+-0/);                        // request ids of the live sequences
  assert.match(out, new RegExp(`sequence ${seqs[0].seq_id} of request`));
  assert.match(out, /logical\s+physical\s+ref\s+shared/);
  assert.match(out, /gpu pool: 96 total, \d+ free, [1-9]\d* used/);
  assert.match(out, /running: [1-9]/);
  assert.match(out, /prefix cache enabled/);
  assert.match(out, /num_steps\s+\d+/);
  assert.match(out, /usage: seq ID/);
  assert.match(out, /unknown command 'frobnicate'/);
  assert.match(out, /commands:/);
  assert.equal(out.match(/gpu pool:/g).length, 1, 'nothing runs after quit');
});

test('the console reports an unreachable server and a refused token clearly', async () => {
  const child = spawn(binary, ['admin', '--url', 'http://127.0.0.1:1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stdin.end('pool\n');
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 1);
  assert.match(out, /error: .*refused/i);
});

function chromium() {
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (fs.existsSync(path.join(dir, 'chromium'))) return path.join(dir, 'chromium');
  return null;
}

test('the /admin/ page renders the block pool in headless Chromium', { skip: chromium() ? false : 'chromium is not installed' }, async () => {
  const exec = promisify(execFile);
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--window-size=1200,1100', '--virtual-time-budget=4000'];
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedserve-chromium-'));
  const shot = process.env.PAGEDSERVE_ADMIN_SCREENSHOT ?? path.join(profile, 'admin.png');
  try {
    const page = `${server.url}/admin/`;
    const { stdout: dom } = await exec(chromium(), [...flags, `--user-data-dir=${profile}`, '--dump-dom', page],
      { timeout: 60000, maxBuffer: 1 << 26 });
    // The page's script fetched the views and drew them.
    assert.match(dom, /GPU pool: \d+ used, \d+ free, \d+ cached, \d+ shared of 96/);
    assert.match(dom, /updated .* \(every second\)/);
    assert.match(dom, /ws\d+-story-\d+-0/);
    await exec(chromium(), [...flags, `--user-data-dir=${profile}`, `--screenshot=${shot}`, page], { timeout: 60000 });
    const png = fs.readFileSync(shot);
    assert.ok(png.length > 5000, `screenshot of ${png.length} bytes`);
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
});
