// A model's own chat template, end to end: a tiny Hugging Face directory
// (random weights written here) whose tokenizer_config.json carries the
// ChatML-style template with tools from tests/data/chat_templates. A chat
// request with a system prompt and tools must be rendered exactly as
// python3-jinja2 renders it under Hugging Face's settings: /apply-template
// returns that text, /tokenize of the messages gives the tokens of that
// text (special tokens as single ids), and chat completions bill that many
// prompt tokens. --chat-template overrides the model's template.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sourceDir, startServer } from './lib/server.mjs';

const templateSource = fs.readFileSync(path.join(sourceDir, 'tests/data/chat_templates/chatml_tools.jinja'), 'utf8');
const kImStart = 63, kImEnd = 3;

// --- a tiny Llama-shaped model directory ---------------------------------

function safetensors(tensors) {
  const header = {};
  let offset = 0;
  for (const [name, { shape, data }] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.length * 4] };
    offset += data.length * 4;
  }
  const headerBytes = Buffer.from(JSON.stringify(header));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(headerBytes.length));
  const body = Buffer.concat(Object.values(tensors).map((t) => Buffer.from(Float32Array.from(t.data).buffer)));
  return Buffer.concat([size, headerBytes, body]);
}

// `byteFallback`: the tokenizer has the 256 <0xXX> byte tokens (ids 64..319),
// so any text tokenizes to real pieces, not <unk>.
function writeTinyModel(dir, tokenizerConfig, { byteFallback = true } = {}) {
  const dim = 32, hidden = 48, layers = 2, heads = 4, kvHeads = 2, headDim = 8, vocab = byteFallback ? 320 : 64;
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const tensor = (shape, scale, offset = 0) => ({ shape, data: Array.from({ length: shape.reduce((a, b) => a * b) }, () => offset + scale * random()) });
  const t = { 'model.embed_tokens.weight': tensor([vocab, dim], 1), 'model.norm.weight': tensor([dim], 0.2, 1) };
  for (let l = 0; l < layers; ++l) {
    const p = `model.layers.${l}.`;
    t[p + 'input_layernorm.weight'] = tensor([dim], 0.2, 1);
    t[p + 'post_attention_layernorm.weight'] = tensor([dim], 0.2, 1);
    t[p + 'self_attn.q_proj.weight'] = tensor([heads * headDim, dim], 0.25);
    t[p + 'self_attn.k_proj.weight'] = tensor([kvHeads * headDim, dim], 0.25);
    t[p + 'self_attn.v_proj.weight'] = tensor([kvHeads * headDim, dim], 0.25);
    t[p + 'self_attn.o_proj.weight'] = tensor([dim, heads * headDim], 0.25);
    t[p + 'mlp.gate_proj.weight'] = tensor([hidden, dim], 0.25);
    t[p + 'mlp.up_proj.weight'] = tensor([hidden, dim], 0.25);
    t[p + 'mlp.down_proj.weight'] = tensor([dim, hidden], 0.2);
  }
  fs.writeFileSync(path.join(dir, 'model.safetensors'), safetensors(t));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
    architectures: ['LlamaForCausalLM'], hidden_size: dim, intermediate_size: hidden, num_hidden_layers: layers,
    num_attention_heads: heads, num_key_value_heads: kvHeads, vocab_size: vocab, max_position_embeddings: 1024,
    rms_norm_eps: 1e-6, rope_theta: 10000.0, hidden_act: 'silu', tie_word_embeddings: true, bos_token_id: 1,
    eos_token_id: 2, torch_dtype: 'float32',
  }));
  // SentencePiece-style BPE: the ChatML markers are added (special) tokens,
  // then letters and digits, then (with byteFallback) the bytes.
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
  const v = { '<unk>': 0, '<s>': 1, '</s>': 2, '<|im_end|>': kImEnd, '\u2581': 4 };
  [...chars].forEach((c, i) => { v[c] = 5 + i; });
  v['<|im_start|>'] = kImStart;
  if (byteFallback) for (let b = 0; b < 256; ++b) v[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 64 + b;
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({
    added_tokens: [{ id: kImEnd, content: '<|im_end|>', special: true }, { id: kImStart, content: '<|im_start|>', special: true }],
    post_processor: null, model: { type: 'BPE', vocab: v, merges: [] },
  }));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
}

// --- the reference: python3-jinja2 set up as Hugging Face does -------------

function jinja2Render(template, variables) {
  const out = execFileSync('/usr/bin/python3', [path.join(sourceDir, 'tests/jinja/hf_render.py')],
    { input: JSON.stringify([{ template, variables }]) });
  const [r] = JSON.parse(out.toString('utf8'));
  if (r.error !== undefined) throw new Error(r.error);
  return r.text;
}

const tools = [{
  type: 'function',
  function: {
    name: 'get_weather', description: 'Current weather in a city, in °C',
    parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'array', items: { type: 'integer' } } }, required: ['city'] },
  },
}];
const messages = [
  { role: 'system', content: 'You answer briefly.' },
  { role: 'user', content: [{ type: 'text', text: 'Weather in Zürich?' }] },
];
// What a Hugging Face tokenizer passes the template for this directory
// (bos_token is null in its tokenizer_config.json, so it is not passed).
const expected = jinja2Render(templateSource, {
  messages: [messages[0], { role: 'user', content: 'Weather in Zürich?' }], tools, add_generation_prompt: true, eos_token: '<|im_end|>',
});

let dir, server;
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedserve-chat-template-'));
  writeTinyModel(dir, { bos_token: null, eos_token: '<|im_end|>', chat_template: templateSource });
  server = await startServer([], { model: dir });
});
after(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const post = async (route, body) => {
  const r = await fetch(`${server.url}${route}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
};

test('the reference rendering has the system prompt, the tools and the generation prompt', () => {
  assert.match(expected, /^<\|im_start\|>system\nYou answer briefly\.\n\n# Tools\n/);
  assert.ok(expected.includes('{"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city, in °C"'));
  assert.ok(expected.endsWith('<|im_start|>user\nWeather in Zürich?<|im_end|>\n<|im_start|>assistant\n'));
});

test('/apply-template returns exactly what python3-jinja2 renders', async () => {
  const r = await post('/apply-template', { messages, tools });
  assert.equal(r.status, 200);
  assert.equal(r.body.prompt, expected);
});

test('/tokenize of the messages gives the tokens of that text, the markers as special tokens', async () => {
  const fromMessages = await post('/tokenize', { messages, tools });
  const fromText = await post('/tokenize', { prompt: expected, add_special_tokens: false });
  assert.equal(fromMessages.status, 200);
  assert.deepEqual(fromMessages.body.tokens, fromText.body.tokens);
  const count = (id) => fromMessages.body.tokens.filter((t) => t === id).length;
  assert.equal(count(kImStart), 3);  // system, user, assistant
  assert.equal(count(kImEnd), 2);
  assert.notEqual(fromMessages.body.tokens[0], 1, 'no BOS: this model names none and the template writes its own markers');
});

test('a chat completion with a system prompt and tools is prompted with that text', async () => {
  const tokens = (await post('/tokenize', { prompt: expected, add_special_tokens: false })).body.tokens;
  const r = await post('/v1/chat/completions', { messages, tools, max_tokens: 2, temperature: 0 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.usage.prompt_tokens, tokens.length);
});

test('chat_template_kwargs and add_generation_prompt reach the template', async () => {
  const r = await post('/apply-template', { messages: [{ role: 'user', content: 'hi' }], add_generation_prompt: false });
  assert.equal(r.body.prompt, jinja2Render(templateSource, {
    messages: [{ role: 'user', content: 'hi' }], tools: null, add_generation_prompt: false, eos_token: '<|im_end|>',
  }));
});

test("the template's raise_exception is a 400 with its message", async () => {
  const r = await post('/v1/chat/completions', { messages: [{ role: 'developer', content: 'x' }], max_tokens: 1 });
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /Unexpected role developer/);
  const a = await post('/apply-template', { messages: [{ role: 'developer', content: 'x' }] });
  assert.equal(a.status, 400);
  assert.equal(a.body.error.type, 'invalid_request_error');
});

test('--chat-template FILE replaces the model\'s template; an unsupported one stops the server with its line', async () => {
  const file = path.join(dir, 'override.jinja');
  fs.writeFileSync(file, '{% for m in messages %}[{{ m.role | upper }}] {{ m.content }}\n{% endfor %}');
  const other = await startServer(['--chat-template', file], { model: dir });
  try {
    const r = await fetch(`${other.url}/apply-template`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ messages }) });
    assert.equal((await r.json()).prompt, '[SYSTEM] You answer briefly.\n[USER] Weather in Zürich?\n');
  } finally {
    await other.stop();
  }
  fs.writeFileSync(file, 'fine\n{{ messages | wordwrap }}');
  await assert.rejects(startServer(['--chat-template', file], { model: dir }), /line 2: the filter 'wordwrap' is not supported/);
});
