// Constrained decoding through an executor in another process: the mask is
// computed where the token is drawn, in the worker, over the vocabulary the
// server sends it (the server decodes the text). A response_format
// json_schema request and guided_regex / guided_choice requests give, with
// the same seed, exactly what a server with a local engine gives, and the
// outputs validate (ajv, RegExp, membership). Also with a worker whose
// model has no tokenizer of its own (random weights: only the mask makes
// the output valid).

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { sourceDir, startServer } from './lib/server.mjs';
import { startWorker } from './lib/worker.mjs';

const ajv = new Ajv({ strict: false });

const schema = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 12 },
    age: { type: 'integer' },
    tags: { type: 'array', items: { enum: ['kind', 'brave', 'small'] }, maxItems: 3 },
  },
  required: ['name', 'age', 'tags'],
  additionalProperties: false,
};
const choices = ['happy', 'sad', 'sleepy'];

// Each request, with how its output must validate.
const requests = [
  { body: { prompt: 'Once upon a time', max_tokens: 300, temperature: 1, seed: 11, n: 2,
    response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } } },
  valid: (text) => ajv.validate(schema, JSON.parse(text)) },
  { body: { prompt: 'The phone number is', max_tokens: 20, temperature: 1, seed: 12, guided_regex: '\\d{3}-\\d{4}' },
    valid: (text) => /^\d{3}-\d{4}$/.test(text) },
  { body: { prompt: 'Lily was', max_tokens: 10, temperature: 1, seed: 13, guided_choice: choices },
    valid: (text) => choices.includes(text) },
];

async function complete(url, body) {
  const r = await fetch(`${url}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const json = await r.json();
  assert.equal(r.status, 200, JSON.stringify(json));
  return json.choices.map((c) => ({ text: c.text, finish: c.finish_reason }));
}

// One at a time: each runs in batches of its own samples only.
async function completeAll(url) {
  const out = [];
  for (const r of requests) out.push(await complete(url, r.body));
  return out;
}

// The requests on a local engine and through a worker, with the same flags.
async function compare(serverFlags, workerModel) {
  const local = await startServer(serverFlags);
  let expected;
  try {
    expected = await completeAll(local.url);
  } finally {
    await local.stop();
  }
  const worker = await startWorker(workerModel ? { model: workerModel } : {});
  try {
    const server = await startServer(['--executor', worker.endpoint, ...serverFlags]);
    try {
      const got = await completeAll(server.url);
      requests.forEach((r, i) => {
        for (const c of got[i]) {
          assert.equal(c.finish, 'stop', JSON.stringify(c));
          assert.ok(r.valid(c.text), `${JSON.stringify(r.body)} gave ${JSON.stringify(c.text)}`);
        }
        assert.deepEqual(got[i], expected[i], `remote and local differ for ${JSON.stringify(r.body)}`);
      });
      const health = await fetch(`${server.url}/health`);
      assert.equal(health.status, 200);
    } finally {
      await server.stop();
    }
  } finally {
    await worker.stop();
  }
}

test('constrained requests through a worker validate and equal a local engine\'s, seed for seed', async () => {
  await compare([]);
});

test('a worker whose model has no tokenizer masks over the server\'s vocabulary', async () => {
  await compare(['--model', 'dummy:stories260K', '--tokenizer', path.join(sourceDir, 'models/stories260K/tok512.bin')],
    'dummy:stories260K');
});
