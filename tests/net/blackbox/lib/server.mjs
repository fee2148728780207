// Starts the real `pagedserve serve` binary on a free loopback port and
// stops it again. The binary comes from $PAGEDSERVE_BINARY (set by ctest),
// the model from $PAGEDSERVE_SOURCE_DIR/models/stories260K.

import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

const here = path.dirname(fileURLToPath(import.meta.url));
export const sourceDir = process.env.PAGEDSERVE_SOURCE_DIR ?? path.resolve(here, '../../../..');
export const binary = process.env.PAGEDSERVE_BINARY ?? path.join(sourceDir, 'build/pagedserve');
export const modelDir = path.join(sourceDir, 'models/stories260K');

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Small pools and quiet logs unless a test says otherwise.
const kDefaultFlags = ['--num-blocks', '512', '--swap-space', '0.05', '--log-level', 'warning'];

// Resolves once /health answers 200. `args` are extra serve flags; with
// `defaults: false` the test's flags (and its --config) are the only ones;
// `positional: true` names the model as `serve MODEL` does. `env` is added
// to the server's environment; `model` is the model path (stories260K).
// `port` binds that port (no retry on another); `prefix` is a command that
// runs the server (and execs it, keeping its pid), such as prlimit.
export async function startServer(args = [], { defaults = true, positional = false, env = {}, model = modelDir, port: fixedPort, prefix = [] } = {}) {
  for (let attempt = 0; attempt < 3; ++attempt) {
    const port = fixedPort ?? await freePort();
    const command = [...prefix, binary];
    const child = spawn(command[0], [...command.slice(1), 'serve', ...(positional ? [model] : ['--model', model]), '--host', '127.0.0.1',
      '--port', String(port), ...(defaults ? kDefaultFlags : []), ...args],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let log = '';
    child.stderr.on('data', (d) => { log += d; });
    const exited = new Promise((r) => child.once('exit', (code) => r(code)));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30000;
    let exitCode = null;
    exited.then((c) => { exitCode = c; });
    while (Date.now() < deadline && exitCode === null) {
      try {
        const r = await fetch(`${url}/health`);
        if (r.status === 200) {
          return {
            url, port, child, exited,
            log: () => log,
            async stop() {
              if (exitCode === null) child.kill('SIGTERM');
              return exited;
            },
          };
        }
      } catch { /* not listening yet */ }
      await sleep(50);
    }
    child.kill('SIGKILL');
    await exited;
    if (!/cannot listen/.test(log) || fixedPort) throw new Error(`server did not become healthy: ${log}`);
    // The port was taken between choosing and binding it: try another.
  }
  throw new Error('no free port');
}

// Polls `predicate` (async) until it is true or `ms` pass.
export async function eventually(predicate, ms = 5000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await sleep(20);
  }
  return predicate();
}

// /metrics, read with a Prometheus text parser.

export async function metrics(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return parsePrometheusTextFormat(text);
}

export function sample(families, name, labels = {}) {
  const family = families.find((f) => f.name === name);
  if (!family) throw new Error(`no metric ${name}`);
  const m = family.metrics.find((x) => Object.entries(labels).every(([k, v]) => (x.labels ?? {})[k] === v));
  if (!m) throw new Error(`no ${name} with ${JSON.stringify(labels)}`);
  return Number(m.value);
}
