#!/usr/bin/env python3
"""Hugging Face transformers on the same model shapes as pagedserve's
benchmarks, random weights made on the GPU.

Trace mode (default), beside `pagedserve bench serving`: generate() with
static batching (batches of --batch requests, padded), and its
continuous-batching generate_batch when the installed version has it;
lengths from the same seeded distributions (log-normal means 161/338
ShareGPT-like, 19/58 Alpaca-like).

--static, beside `pagedserve bench throughput`: for each batch size of
--batch-list, --prompt-len random prompt tokens and exactly --tokens new
tokens per sequence, greedy; generated tokens/s (and, with --tokens 1, the
time to first token). Prints one JSON line per mode or batch size."""
import argparse
import json
import math
import random
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

SHAPES = {"llama2-7b": dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                             num_attention_heads=32, num_key_value_heads=32, vocab_size=32000,
                             max_position_embeddings=4096),
          "llama3-8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                             num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
                             max_position_embeddings=8192, rope_theta=500000.0),
          "stories15M": dict(hidden_size=288, intermediate_size=768, num_hidden_layers=6,
                              num_attention_heads=6, num_key_value_heads=6, vocab_size=32000,
                              max_position_embeddings=256)}
TRACES = {"sharegpt": (161, 1.0, 338, 0.9), "alpaca": (19, 0.6, 58, 0.7)}


def trace(name, n, max_len, seed):
    mi, si, mo, so = TRACES[name]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        i = min(max(1, round(rng.lognormvariate(math.log(mi) - si * si / 2, si))), max_len - 1)
        o = min(max(1, round(rng.lognormvariate(math.log(mo) - so * so / 2, so))), max_len - i)
        out.append((i, o))
    return out


def make_model(name):
    cfg = LlamaConfig(**SHAPES[name])
    torch.set_default_dtype(torch.float16)
    with torch.device("cuda"):  # random init on the GPU: seconds, not minutes
        model = LlamaForCausalLM(cfg)
    torch.set_default_dtype(torch.float32)
    return cfg, model.eval()


def static(model, cfg, batches, prompt_len, tokens):
    gen = torch.Generator().manual_seed(1)
    for batch in batches:
        ids = torch.randint(3, cfg.vocab_size, (batch, prompt_len), generator=gen).cuda()
        mask = torch.ones_like(ids)
        run = lambda: model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=tokens,
                                     min_new_tokens=tokens, pad_token_id=0)
        with torch.no_grad():
            run()  # warm-up: kernels chosen, caches allocated
            torch.cuda.synchronize()
            start = time.time()
            out = run()
            torch.cuda.synchronize()
        s = time.time() - start
        generated = (out.shape[1] - prompt_len) * batch
        print(json.dumps({"impl": "hf_generate_static", "batch": batch, "prompt_len": prompt_len, "tokens": tokens,
                          "seconds": s, "tokens_per_s": generated / s}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="llama2-7b", choices=SHAPES)
    ap.add_argument("--trace", default="sharegpt", choices=TRACES)
    ap.add_argument("--num-requests", type=int, default=1000)
    ap.add_argument("--batch", default="32", help="batch size (trace) or list (--static)")
    ap.add_argument("--static", action="store_true")
    ap.add_argument("--prompt-len", type=int, default=128)
    ap.add_argument("--tokens", type=int, default=128)
    a = ap.parse_args()
    cfg, model = make_model(a.model)
    if a.static:
        static(model, cfg, [int(b) for b in a.batch.split(",")], a.prompt_len, a.tokens)
        return
    batch = int(a.batch)
    reqs = trace(a.trace, a.num_requests, cfg.max_position_embeddings, 1)
    gen = torch.Generator().manual_seed(1)
    prompts = [torch.randint(3, cfg.vocab_size, (i,), generator=gen) for i, _ in reqs]
    total_out = sum(o for _, o in reqs)

    start = time.time()
    for b in range(0, len(reqs), batch):
        chunk = list(range(b, min(b + batch, len(reqs))))
        width = max(len(prompts[j]) for j in chunk)
        ids = torch.zeros(len(chunk), width, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for r, j in enumerate(chunk):  # left padding, as decoder-only generation needs
            ids[r, width - len(prompts[j]):] = prompts[j]
            mask[r, width - len(prompts[j]):] = 1
        with torch.no_grad():
            model.generate(input_ids=ids.cuda(), attention_mask=mask.cuda(), do_sample=False,
                           max_new_tokens=max(reqs[j][1] for j in chunk), min_new_tokens=1, pad_token_id=0)
    s = time.time() - start
    print(json.dumps({"impl": "hf_generate_static", "batch": batch, "requests": len(reqs), "seconds": s,
                      "requests_per_s": len(reqs) / s, "generated_tokens_per_s": total_out / s}), flush=True)

    if hasattr(model, "generate_batch"):
        from transformers import GenerationConfig
        gcfg = GenerationConfig(max_new_tokens=max(o for _, o in reqs), do_sample=False, eos_token_id=-1)
        start = time.time()
        with torch.no_grad():
            model.generate_batch(inputs=[p.tolist() for p in prompts], generation_config=gcfg)
        s = time.time() - start
        print(json.dumps({"impl": "hf_generate_batch", "requests": len(reqs), "seconds": s,
                          "requests_per_s": len(reqs) / s}), flush=True)
    else:
        print(json.dumps({"impl": "hf_generate_batch", "available": False}), flush=True)


if __name__ == "__main__":
    main()
