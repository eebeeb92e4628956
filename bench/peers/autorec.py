"""A dense PyTorch I-AutoRec, the usual way to write it, as the peer of aerec's sparse autorec-i.

Usage: python bench/peers/autorec.py RATINGS_FILE [--optimizer adam|lbfgs] [--epochs 3] [--hidden 500]
       [--batch-size 256] [--threads 2] [--lr 0.001] [--lam 1.0] [--input-offset 0]

RATINGS_FILE holds `user item rating` lines (0-based dense indices, tab-separated) for training; the first
line is `nUsers nItems`. Each movie's vector of user ratings is one row of a dense items x users matrix;
the encoder reads each observed rating plus --input-offset (aerec's autorec-i default is 15); the loss
is the squared error over observed entries plus lam/2 * (|W1|^2 + |W2|^2), divided by the number
of observed ratings (the same objective aerec minimises), optimised by Adam on mini-batches of movies, or
by full-batch L-BFGS with a strong-Wolfe line search (one iteration an epoch), as the AutoRec authors did.
Prints one JSON summary (seconds per epoch, peak memory) as the last line.
"""

import argparse
import json
import resource
import time

import numpy as np
import torch
import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("ratings")
parser.add_argument("--optimizer", choices=["adam", "lbfgs"], default="adam")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--hidden", type=int, default=500)
parser.add_argument("--batch-size", type=int, default=256)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--lr", type=float, default=0.001)
parser.add_argument("--lam", type=float, default=1.0)
parser.add_argument("--input-offset", type=float, default=0.0)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

with open(args.ratings) as f:
    n_users, n_items = map(int, f.readline().split())
data = np.loadtxt(args.ratings, skiprows=1, dtype=np.float32, ndmin=2)
users, items, values = data[:, 0].astype(np.int64), data[:, 1].astype(np.int64), data[:, 2]
R = torch.zeros(n_items, n_users)
R[items, users] = torch.from_numpy(values)
M = (R > 0).float()
n_observed = float(M.sum())
X = R + args.input_offset * M if args.input_offset else R

model = nn.Sequential(nn.Linear(n_users, args.hidden), nn.Sigmoid(), nn.Linear(args.hidden, n_users))
weights = [model[0].weight, model[2].weight]


def penalty():
    return args.lam / 2 * sum(w.pow(2).sum() for w in weights) / n_observed


def adam_epoch(optimizer):
    order = torch.randperm(n_items)
    sse = 0.0
    for start in range(0, n_items, args.batch_size):
        idx = order[start : start + args.batch_size]
        x, r, m = X[idx], R[idx], M[idx]
        optimizer.zero_grad()
        err = ((model(x) - r) * m).pow(2).sum()
        loss = err / float(m.sum()) + penalty()
        loss.backward()
        optimizer.step()
        sse += float(err)
    return sse


def lbfgs_epoch(optimizer):
    sse = [0.0]

    def closure():
        optimizer.zero_grad()
        err = ((model(X) - R) * M).pow(2).sum()
        loss = err / n_observed + penalty()
        loss.backward()
        sse[0] = float(err)
        return loss

    optimizer.step(closure)
    return sse[0]


if args.optimizer == "adam":
    optimizer, epoch = torch.optim.Adam(model.parameters(), lr=args.lr), adam_epoch
else:
    optimizer = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=1, history_size=10, line_search_fn="strong_wolfe")
    epoch = lbfgs_epoch

epoch_seconds = []
for _ in range(args.epochs):
    started = time.perf_counter()
    sse = epoch(optimizer)
    epoch_seconds.append(time.perf_counter() - started)
evaluations = optimizer.state[optimizer._params[0]].get("func_evals") if args.optimizer == "lbfgs" else None

print(
    json.dumps(
        {
            "peer": "pytorch-dense-autorec",
            "optimizer": args.optimizer,
            "evaluations": evaluations,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "epochs": args.epochs,
            "secondsPerEpoch": sum(epoch_seconds) / len(epoch_seconds),
            "epochSeconds": epoch_seconds,
            "trainRmse": (sse / n_observed) ** 0.5,
            "peakMemoryMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )
)
