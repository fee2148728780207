// Starts the real `pagedserve worker` binary on a free loopback port: an
// executor in its own process, for `serve --executor 127.0.0.1:PORT`.

import { spawn } from 'node:child_process';
import { binary, freePort, modelDir, sleep } from './server.mjs';

// Resolves once the worker logs that it listens. `model` defaults to
// stories260K; `args` are extra worker flags (--rank R), `env` is added to
// its environment.
export async function startWorker({ model = modelDir, port: fixedPort, args = [], env = {} } = {}) {
  for (let attempt = 0; attempt < 3; ++attempt) {
    const port = fixedPort ?? await freePort();
    const child = spawn(binary, ['worker', '--listen', `127.0.0.1:${port}`, '--model', model, ...args],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let log = '';
    child.stderr.on('data', (d) => { log += d; });
    let exitCode = null;
    const exited = new Promise((r) => child.once('exit', (code, signal) => { exitCode = code ?? signal; r(exitCode); }));
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline && exitCode === null && !/worker listening/.test(log)) await sleep(20);
    if (/worker listening/.test(log)) {
      return {
        port, child, exited, endpoint: `127.0.0.1:${port}`,
        log: () => log,
        async stop(signal = 'SIGTERM') {
          if (exitCode === null) child.kill(signal);
          return exited;
        },
      };
    }
    child.kill('SIGKILL');
    await exited;
    if (fixedPort !== undefined || !/cannot listen/.test(log)) throw new Error(`worker did not start: ${log}`);
  }
  throw new Error('no free port');
}
