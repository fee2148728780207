// A live /metrics scrape checked by promtool (Prometheus's own linter), and
// the vllm:* families that vLLM dashboards and autoscalers read, with their
// model_name label, moving with the requests served.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { metrics, sample, startServer } from './lib/server.mjs';

let server;
before(async () => { server = await startServer(['--served-model-name', 'tiny']); });
after(async () => { await server?.stop(); });

// promtool check metrics < text: its exit code and its findings, one a line.
function promtool(text) {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, findings: out.split('\n').filter((l) => l.trim() !== '') }));
    child.stdin.end(text);
  });
}

const complete = (prompt, max_tokens, extra = {}) => fetch(`${server.url}/v1/completions`, {
  method: 'POST', headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ prompt, max_tokens, temperature: 0, ...extra }),
}).then((r) => r.json());

test('promtool finds nothing wrong with a scrape but the colons of vLLM\'s own names', async () => {
  await complete('Once upon a time', 8);
  await complete('Once upon a time', 40, { stop: ['.'] });
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const { code, findings } = await promtool(text);
  // promtool lints names with ':' (it keeps them for recording rules); vLLM's
  // names have one, and using them unchanged is the point.
  const colon = /^(vllm:[a-z0-9_]+) metric names should not contain ':'$/;
  // vLLM names its tokens-per-step histogram vllm:iteration_tokens_total; the
  // name is kept, and promtool's note on its suffix with it.
  const suffix = 'vllm:iteration_tokens_total non-counter metrics should not have "_total" suffix';
  const named = findings.filter((f) => f !== suffix);
  assert.ok(findings.includes(suffix), 'vllm:iteration_tokens_total is scraped');
  for (const f of named) assert.match(f, colon, `promtool: ${f}`);
  assert.ok(code === 0 || code === 3, `promtool exited ${code}: ${findings.join('\n')}`);
  const linted = new Set(named.map((f) => f.match(colon)[1]));
  for (const name of ['vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:num_requests_swapped',
    'vllm:kv_cache_usage_perc', 'vllm:cpu_cache_usage_perc', 'vllm:prefix_cache_queries_total',
    'vllm:prefix_cache_hits_total', 'vllm:num_preemptions_total', 'vllm:prompt_tokens_total',
    'vllm:generation_tokens_total', 'vllm:request_success_total', 'vllm:time_to_first_token_seconds',
    'vllm:inter_token_latency_seconds', 'vllm:e2e_request_latency_seconds', 'vllm:request_queue_time_seconds',
    'vllm:cache_config_info']) {
    assert.ok(linted.has(name), `${name} was not in the scrape promtool read`);
  }
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds',
    'process_start_time_seconds', 'pagedserve_build_info']) assert.match(text, new RegExp(`^${name}[ {]`, 'm'));
});

test('the vllm:* counters and histograms follow the requests, labelled with the served model name', async () => {
  const beforeText = await (await fetch(`${server.url}/metrics`)).text();
  const before = await metrics(server.url);
  const m = { model_name: 'tiny' };
  const at = (families, name, labels = {}) => sample(families, name, { ...m, ...labels });
  const prompt = 'Once upon a time there was a little girl named Lily who loved to play outside in the sun';
  const a = await complete(prompt, 6);
  const b = await complete(prompt, 6);
  const after = await metrics(server.url);
  const afterText = await (await fetch(`${server.url}/metrics`)).text();
  const delta = (name, labels) => at(after, name, labels) - at(before, name, labels);
  assert.equal(delta('vllm:prompt_tokens_total'), a.usage.prompt_tokens + b.usage.prompt_tokens);
  assert.equal(delta('vllm:generation_tokens_total'), 12);
  assert.equal(delta('vllm:request_success_total', { finished_reason: 'length' }), 2);
  assert.equal(delta('vllm:prefix_cache_hits_total'),
    a.usage.prompt_tokens_details.cached_tokens + b.usage.prompt_tokens_details.cached_tokens);
  assert.ok(b.usage.prompt_tokens_details.cached_tokens > 0);
  assert.ok(delta('vllm:prefix_cache_queries_total') >= delta('vllm:prefix_cache_hits_total'));
  // Histogram counts read from the text itself (the parser drops labelled histograms' _count).
  const count = (text, name) => Number(text.match(new RegExp(`^${name}_count\\{model_name="tiny"\\} (\\S+)$`, 'm'))[1]);
  for (const name of ['vllm:e2e_request_latency_seconds', 'vllm:time_to_first_token_seconds',
    'vllm:request_queue_time_seconds'])
    assert.equal(count(afterText, name) - count(beforeText, name), 2, name);
  // Two requests of one prompt and 6 tokens each, one after the other: at
  // least a prefill step and 5 decode steps each, every one counted once.
  const steps = count(afterText, 'vllm:iteration_tokens_total') - count(beforeText, 'vllm:iteration_tokens_total');
  assert.ok(steps >= 12, `steps ${steps}`);
  const sum = (text, name) => Number(text.match(new RegExp(`^${name}_sum\\{model_name="tiny"\\} (\\S+)$`, 'm'))[1]);
  assert.equal(sum(afterText, 'vllm:iteration_tokens_total') - sum(beforeText, 'vllm:iteration_tokens_total'),
    a.usage.prompt_tokens + b.usage.prompt_tokens - a.usage.prompt_tokens_details.cached_tokens -
    b.usage.prompt_tokens_details.cached_tokens + 12 - 2);
  assert.equal(at(after, 'vllm:num_requests_running'), 0);
  const info = after.find((f) => f.name === 'vllm:cache_config_info').metrics[0].labels;
  assert.equal(info.block_size, '16');
  assert.equal(info.enable_prefix_caching, 'True');
  assert.equal(info.num_gpu_blocks, '512');
});
