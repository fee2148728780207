// Running out of file descriptors: a server started with a small fd limit
// and more connections than it can accept must not spin on the failing
// accept. It backs off, logs once, keeps serving the connections it has,
// and accepts again once descriptors free up. At start it raises its soft
// limit toward the hard one and says what it got.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { eventually, startServer } from './lib/server.mjs';

// User plus system CPU seconds of process `pid` (Linux /proc/PID/stat).
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime, stime in clock ticks (USER_HZ = 100)
}

function open(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('accept failing with EMFILE backs off, logs once, and serves again once fds free up', async () => {
  const server = await startServer(['--log-level', 'warning'], { prefix: ['prlimit', '--nofile=64:64'] });
  try {
    const sockets = [];
    for (let i = 0; i < 100; ++i) sockets.push(await open(server.port));
    await sleep(500);  // the server is out of descriptors by now
    const before = cpuSeconds(server.child.pid);
    await sleep(3000);
    const spent = cpuSeconds(server.child.pid) - before;
    console.log(`EMFILE: ${spent.toFixed(2)} CPU seconds in 3 s with 100 connections past a limit of 64 fds`);
    assert.ok(spent < 0.25, `the server spent ${spent} CPU seconds while out of descriptors`);
    const mentions = server.log().split('\n').filter((l) => /file descriptors/.test(l));
    assert.equal(mentions.length, 1, server.log());
    for (const s of sockets) s.destroy();
    assert.ok(await eventually(async () => {
      try { return (await fetch(`${server.url}/health`)).status === 200; } catch { return false; }
    }, 10000));
    const r = await fetch(`${server.url}/v1/completions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt: 'Once', max_tokens: 4 }),
    });
    assert.equal(r.status, 200);
  } finally {
    await server.stop();
  }
});

test('at start the soft fd limit is raised to the hard one, and the log says so', async () => {
  const server = await startServer(['--log-level', 'info'], { prefix: ['prlimit', '--nofile=100:4000'] });
  try {
    const limits = fs.readFileSync(`/proc/${server.child.pid}/limits`, 'utf8');
    const [, soft, hard] = /Max open files\s+(\d+)\s+(\d+)/.exec(limits);
    assert.equal(Number(soft), 4000);
    assert.equal(Number(hard), 4000);
    assert.match(server.log(), /open-file limit.*4000/);
  } finally {
    await server.stop();
  }
});
