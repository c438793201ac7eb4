"""PyTorch peer of bench/parallel.ts: the same models, batches and steps, timed in PyTorch.

Started by `npm run bench:parallel -- --peer torch`; reads one command per line on stdin and
answers one JSON line per command on stdout, so the benchmark can interleave its rows with
PyTorch's in the same minutes:

    time <mlp|cnn> <sgd|sam> <steps> <warmup>   ->  {"stepMs": [...]}
    quit

Models as bench/workloads.ts: mlp 784-1024-1024-10 (relu) at batch 256; cnn conv32-pool-conv64-pool
-fc128-fc10 (valid 3x3 convolutions, 2x2 max pooling) on 28x28x1 at batch 128. Plain SGD (as the
benchmark's sgd), lr 0.01, cross-entropy on the logits; SAM (rho 0.05) takes the gradient at w + rho*g/||g|| and
restores w before the base step, as davda54/sam. Threads: --threads (default 2).
"""

import argparse
import json
import sys
import time

import torch
from torch import nn


def build(model: str) -> tuple[nn.Module, int]:
    if model == "mlp":
        net = nn.Sequential(
            nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10)
        )
        return net, 256
    if model == "cnn":
        net = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(5 * 5 * 64, 128), nn.ReLU(), nn.Linear(128, 10),
        )
        return net, 128
    raise ValueError(f"model is '{model}'; expected mlp or cnn")


def inputs(model: str, batch: int) -> torch.Tensor:
    shape = (batch, 784) if model == "mlp" else (batch, 1, 28, 28)
    return torch.rand(shape)


def step_function(net: nn.Module, method: str, x: torch.Tensor, y: torch.Tensor):
    params = [p for p in net.parameters()]
    base = torch.optim.SGD(params, lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    rho = 0.05

    def sgd_step():
        base.zero_grad()
        loss_fn(net(x), y).backward()
        base.step()

    def sam_step():
        base.zero_grad()
        loss_fn(net(x), y).backward()
        with torch.no_grad():
            norm = torch.norm(torch.stack([p.grad.norm(2) for p in params]), 2)
            scale = rho / (norm + 1e-12)
            shifts = [p.grad * scale for p in params]
            for p, e in zip(params, shifts):
                p.add_(e)
        base.zero_grad()
        loss_fn(net(x), y).backward()
        with torch.no_grad():
            for p, e in zip(params, shifts):
                p.sub_(e)
        base.step()

    if method == "sgd":
        return sgd_step
    if method == "sam":
        return sam_step
    raise ValueError(f"method is '{method}'; expected sgd or sam")


def time_steps(model: str, method: str, steps: int, warmup: int) -> list[float]:
    torch.manual_seed(1)
    net, batch = build(model)
    x = inputs(model, batch)
    y = torch.arange(batch) % 10
    step = step_function(net, method, x, y)
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        try:
            if words[0] != "time" or len(words) != 5:
                raise ValueError(f"command '{line.strip()}'; expected 'time MODEL METHOD STEPS WARMUP'")
            times = time_steps(words[1], words[2], int(words[3]), int(words[4]))
            print(json.dumps({"stepMs": times}), flush=True)
        except Exception as error:  # reported to the benchmark, which stops with it
            print(json.dumps({"error": str(error)}), flush=True)


if __name__ == "__main__":
    main()
