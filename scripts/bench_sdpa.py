#!/usr/bin/env python3
"""Contiguous-K/V decode attention with PyTorch's scaled_dot_product_attention,
on the shapes of `pagedserve bench kernels`, for the same-run comparison.
Prints one JSON line per configuration."""
import argparse
import json

import torch
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", default="1,8,32,64,128,256")
    ap.add_argument("--context", default="128,512,1024,2048,4096,8192")
    ap.add_argument("--gqa", default="1,4")
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("--head-size", type=int, default=128)
    ap.add_argument("--iters", type=int, default=20)
    a = ap.parse_args()
    dev = torch.device("cuda")
    for gqa in map(int, a.gqa.split(",")):
        kv_heads = a.heads // gqa
        for batch in map(int, a.batch.split(",")):
            for ctx in map(int, a.context.split(",")):
                need = 2 * batch * kv_heads * ctx * a.head_size * 2
                if need > torch.cuda.mem_get_info()[0] * 0.8:
                    continue
                q = torch.randn(batch, a.heads, 1, a.head_size, device=dev, dtype=torch.float16)
                k = torch.randn(batch, kv_heads, ctx, a.head_size, device=dev, dtype=torch.float16)
                v = torch.randn_like(k)
                run = lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=gqa > 1)
                run()
                torch.cuda.synchronize()
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                for _ in range(a.iters):
                    run()
                end.record()
                torch.cuda.synchronize()
                us = start.elapsed_time(end) * 1000 / a.iters
                print(json.dumps({"impl": "torch_sdpa", "gqa": gqa, "batch": batch, "context": ctx,
                                  "head_size": a.head_size, "latency_us": us,
                                  "bandwidth_gbs": need / (us * 1e-6) / 1e9}), flush=True)
                del q, k, v


if __name__ == "__main__":
    main()
