"""PyTorch's dense products of a Mult-VAE batch, timed: the decoder's forward (B x H -> I), its weight
gradient and its input gradient, and the dense encoder's forward and weight gradient (PyTorch feeds the
dense B x I input). Prints JSON: seconds per product, median of the repeats."""
import argparse
import json
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--batch", type=int, default=500)
parser.add_argument("--hidden", type=int, default=600)
parser.add_argument("--items", type=int, default=3706)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--repeats", type=int, default=20)
args = parser.parse_args()
torch.set_num_threads(args.threads)
B, H, I = args.batch, args.hidden, args.items
h = torch.randn(B, H)
w = torch.randn(I, H)
d_out = torch.randn(B, I)
x = torch.randn(B, I)
products = {
    "decoder forward": lambda: h @ w.T,
    "decoder weight gradient": lambda: d_out.T @ h,
    "decoder input gradient": lambda: d_out @ w,
    "encoder forward": lambda: x @ w,
    "encoder weight gradient": lambda: x.T @ h,
}
out = {}
for name, product in products.items():
    for _ in range(3):
        product()
    times = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        product()
        times.append(time.perf_counter() - started)
    out[name] = sorted(times)[len(times) // 2]
print(json.dumps({"seconds": out, "torch": torch.__version__}))
