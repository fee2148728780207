// Conformance of constrained decoding: a model with random weights (its
// output is noise, so only the constraint can make it valid) samples at
// temperature 1 under hundreds of random JSON Schemas, regexes, choice
// lists and GBNF grammars. Every output must validate: schemas by ajv,
// regexes and grammars by JavaScript's RegExp, choices by membership.
// PAGEDSERVE_CONFORMANCE_COUNT sets how many of each kind (default 30, json_object half as many; a
// thorough run uses thousands: PAGEDSERVE_CONFORMANCE_COUNT=2000).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import path from 'node:path';
import Ajv from 'ajv';
import { randomChoice, randomRegex, randomTopSchema, rng } from './lib/random_constraints.mjs';
import { sourceDir, startServer } from './lib/server.mjs';

const count = Number(process.env.PAGEDSERVE_CONFORMANCE_COUNT ?? 30);
const kConcurrency = 32;
let server;

before(async () => {
  server = await startServer(['--model', 'dummy:stories260K', '--tokenizer', path.join(sourceDir, 'models/stories260K/tok512.bin'),
    '--max-num-seqs', '64']);
});
after(async () => { await server?.stop(); });

async function complete(body) {
  const r = await fetch(`${server.url}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'Once upon a time', max_tokens: 400, temperature: 1, ...body }),
  });
  const json = await r.json();
  assert.equal(r.status, 200, JSON.stringify(json));
  return json;
}

// Runs `make(i)` -> {body, check(text)} for i < count, kConcurrency at a time;
// returns how many outputs were checked. With `allowLength`, an output cut
// by max_tokens is counted (in `cut`) instead of failing.
async function conform(make, { allowLength = false, cases = count } = {}) {
  let next = 0;
  let outputs = 0;
  let cut = 0;
  const worker = async () => {
    for (let i = next++; i < cases; i = next++) {
      const { body, check } = make(i);
      const r = await complete({ seed: i, ...body });
      for (const choice of r.choices) {
        if (allowLength && choice.finish_reason === 'length') { ++cut; continue; }
        assert.equal(choice.finish_reason, 'stop', `case ${i} ${JSON.stringify(body)} ran out of tokens: ${JSON.stringify(choice.text)}`);
        check(choice.text, i);
        ++outputs;
      }
    }
  };
  await Promise.all(Array.from({ length: kConcurrency }, worker));
  return { outputs, cut };
}

test('random JSON Schemas: every output parses and ajv validates it', async () => {
  const ajv = new Ajv({ strict: false });
  const { outputs } = await conform((i) => {
    const schema = randomTopSchema(rng(1000 + i));
    const validate = ajv.compile(schema);
    const field = ['response_format', 'guided_json', 'structured_outputs'][i % 3];
    const body = field === 'response_format'
      ? { response_format: { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } } }
      : field === 'guided_json' ? { guided_json: schema } : { structured_outputs: { json: schema } };
    if (i % 5 === 0) body.n = 3;
    return {
      body,
      check(text) {
        const value = JSON.parse(text);
        assert.ok(validate(value), `schema ${JSON.stringify(schema)}\noutput ${text}\n${JSON.stringify(validate.errors)}`);
      },
    };
  });
  assert.ok(outputs >= count);
});

// json_object strings have no length bound, and noise rarely closes one:
// some outputs run out of tokens. Every output that finishes must parse.
test('json_object mode: every finished output is a JSON object', async () => {
  const { outputs, cut } = await conform((i) => ({
    body: { response_format: { type: 'json_object' }, max_tokens: 120, seed: 5000 + i },
    check(text) {
      const value = JSON.parse(text);
      assert.equal(typeof value, 'object');
      assert.ok(value !== null && !Array.isArray(value), text);
    },
  }), { allowLength: true, cases: Math.ceil(count / 2) });
  assert.ok(outputs >= count / 8, `only ${outputs} of ${outputs + cut} finished`);
});

test('random regexes and the same languages as GBNF grammars: JavaScript RegExp accepts every output', async () => {
  await conform((i) => {
    const re = randomRegex(rng(2000 + i));
    const js = new RegExp(`^(?:${re.source})$`, 'u');
    const body = i % 2 ? { guided_regex: re.source } : { guided_grammar: re.gbnf };
    return { body, check(text) { assert.match(text, js, `${JSON.stringify(body)} gave ${JSON.stringify(text)}`); } };
  });
});

test('random choice lists: every output is one of the choices', async () => {
  await conform((i) => {
    const choices = randomChoice(rng(3000 + i));
    const body = i % 2 ? { guided_choice: choices } : { structured_outputs: { choice: choices } };
    return { body, check(text) { assert.ok(choices.includes(text), `${JSON.stringify(choices)} gave ${JSON.stringify(text)}`); } };
  });
});
