"""PyTorch reference timings of the text workloads of bench/workloads.ts (issue 14).

Milliseconds per SGD training step (lr 0.01) of the same shapes as `npm run bench:backend --
--model text-transformer|lm`, on this machine's CPU, for the comparison in docs/BENCHMARKS.md:

  text-transformer: vocab 10k, seq 128 (rows of 32..128 tokens, padding masked), d 128, 4 heads,
                    2 post-LN encoder blocks, ff 256, mean pooling over tokens, 2 classes, batch 32;
  lm:               vocab 8000, context 128, d 128, 4 heads, 2 pre-LN decoder blocks (causal),
                    ff 512 (gelu), tied output, next-token cross-entropy, batch 32.

  /usr/bin/python3 bench/pytorch/text_models.py [--model lm|text-transformer] [--steps 10]
      [--threads 2] [--out FILE (default runs/bench/pytorch-text.json)]

Debian's python3-torch (1.13, OpenBLAS). Run without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE set:
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/pytorch/text_models.py
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, d, heads, causal):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, key_mask=None):
        b, t, d = x.shape
        h = self.heads
        split = lambda y: y.view(b, t, h, d // h).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-1, -2) / (d // h) ** 0.5
        if key_mask is not None:
            scores = scores + (key_mask[:, None, None, :] - 1.0) * 1e9
        if self.causal:
            scores = scores + torch.triu(torch.full((t, t), -1e9), 1)
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        return self.o(context)


class TextTransformer(nn.Module):
    def __init__(self, vocab=10000, seq=128, d=128, heads=4, blocks=2, ff=256, classes=2):
        super().__init__()
        self.embed, self.position = nn.Embedding(vocab, d), nn.Parameter(torch.zeros(seq, d))
        self.blocks = nn.ModuleList(
            nn.ModuleDict(dict(attention=Attention(d, heads, False), ln1=nn.LayerNorm(d),
                               ff1=nn.Linear(d, ff), ff2=nn.Linear(ff, d), ln2=nn.LayerNorm(d)))
            for _ in range(blocks))
        self.head = nn.Linear(d, classes)

    def forward(self, ids):
        mask = (ids != 0).float()
        x = self.embed(ids) + self.position
        for b in self.blocks:
            x = b['ln1'](x + b['attention'](x, mask))
            x = b['ln2'](x + b['ff2'](F.relu(b['ff1'](x))))
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        return self.head(pooled)


class LanguageModel(nn.Module):
    def __init__(self, vocab=8000, seq=128, d=128, heads=4, blocks=2, ff=512):
        super().__init__()
        self.embed, self.position = nn.Embedding(vocab, d), nn.Parameter(torch.zeros(seq, d))
        self.blocks = nn.ModuleList(
            nn.ModuleDict(dict(ln1=nn.LayerNorm(d), attention=Attention(d, heads, True),
                               ln2=nn.LayerNorm(d), ff1=nn.Linear(d, ff), ff2=nn.Linear(ff, d)))
            for _ in range(blocks))
        self.final = nn.LayerNorm(d)

    def forward(self, ids):
        x = self.embed(ids) + self.position
        for b in self.blocks:
            x = x + b['attention'](b['ln1'](x))
            x = x + b['ff2'](F.gelu(b['ff1'](b['ln2'](x))))
        return self.final(x) @ self.embed.weight.t()


def padded_rows(batch, length, vocab):
    ids = torch.zeros(batch, length, dtype=torch.long)
    for r in range(batch):
        used = 32 + (r * 37) % (length - 31)
        for c in range(used):
            ids[r, c] = 3 + (r * 7919 + c * 104729) % (vocab - 3)
    return ids


def workload(name):
    torch.manual_seed(1)
    if name == 'text-transformer':
        model = TextTransformer()
        x, y = padded_rows(32, 128, 10000), torch.arange(32) % 2
        return model, lambda: F.cross_entropy(model(x), y)
    model = LanguageModel()
    x, y = torch.randint(3, 8000, (32, 128)), torch.randint(3, 8000, (32, 128))
    return model, lambda: F.cross_entropy(model(x).reshape(-1, 8000), y.reshape(-1))


def measure(name, steps, warmup):
    model, loss_fn = workload(name)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn().backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return {'model': name, 'batch': 32, 'msPerStep': sum(times) / len(times),
            'medianMsPerStep': statistics.median(times), 'steps': steps,
            'loadAverage': [os.getloadavg()[0]]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--model', choices=['text-transformer', 'lm'])
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--out', default='runs/bench/pytorch-text.json')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    command = 'python3 bench/pytorch/text_models.py ' + ' '.join(sys.argv[1:])
    print(f'machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), '
          f'torch {torch.__version__}, {torch.get_num_threads()} threads')
    print(f'command: {command}')
    results = []
    for name in [args.model] if args.model else ['text-transformer', 'lm']:
        r = measure(name, args.steps, args.warmup)
        results.append(r)
        print(f"{name:<17} pytorch  batch 32   {r['msPerStep']:.1f} ms/step "
              f"(median {r['medianMsPerStep']:.1f}); load average {r['loadAverage'][0]:.2f}")
    os.makedirs(os.path.dirname(args.out) or '.', exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump({'benchmark': 'pytorch-text', 'command': command, 'torch': torch.__version__,
                   'threads': torch.get_num_threads(), 'results': results}, f, indent=2)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
