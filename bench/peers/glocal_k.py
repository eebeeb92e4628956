"""GLocal-K (Han et al., CIKM 2021) in PyTorch, ported from the authors' TensorFlow 1 notebook, as the peer
of aerec's glocal-k.

Usage: python bench/peers/glocal_k.py TRAIN_FILE TEST_FILE [--pretrain-epochs 30] [--finetune-epochs 60]
       [--iterations 5] [--threads 2] [--validation 0.05] [--seed 1]
       python bench/peers/glocal_k.py --fixture OUT.json

TRAIN_FILE and TEST_FILE hold `user item rating` lines (0-based dense indices, tab-separated); the first line
of each is `nUsers nItems`. The model is the authors': rows are movies, each a dense vector of user ratings;
two local-kernel layers of 500 (sigmoid) and an identity output layer, each with weights W, bias b and
embeddings u (n_in x 5), v (n_out x 5) whose kernel max(0, 1 - |u_i - v_j|^2) multiplies W; penalties
lambda_s/2 |kernel|^2 + lambda_2/2 |W|^2; loss 1/2 the squared error on observed ratings. Pre-training,
then fine-tuning on relu(conv2d(R, gk)), gk the item-pooled pre-output times a (n_movies x 9) matrix.
Every epoch is a fresh SciPy L-BFGS-B run of --iterations iterations (maxcor 10, no bounds), as the
notebook's ScipyOptimizerInterface.minimize calls are. With --validation, that share of the training
ratings is held out and the reported epoch is the best on it; the test RMSE of the best test epoch is
printed too (the notebook's protocol). Prints one JSON summary as the last line.

--fixture writes a small problem with its parameters and the value and gradient of both objectives (float64),
which test/model/glocal-k.test.ts compares aerec against.
"""

import argparse
import json
import resource
import time

import numpy as np
import scipy.optimize
import torch
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("train", nargs="?")
parser.add_argument("test", nargs="?")
parser.add_argument("--pretrain-epochs", type=int, default=30)
parser.add_argument("--finetune-epochs", type=int, default=60)
parser.add_argument("--iterations", type=int, default=5)
parser.add_argument("--hidden", type=int, default=500)
parser.add_argument("--layers", type=int, default=2)
parser.add_argument("--dims", type=int, default=5)
parser.add_argument("--lambda-2", type=float, default=20.0)
parser.add_argument("--lambda-s", type=float, default=0.006)
parser.add_argument("--dot-scale", type=float, default=1.0)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--validation", type=float, default=0.05)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--fixture")
args = parser.parse_args()
torch.set_num_threads(args.threads)


def truncated_normal(shape, std, gen):
    x = torch.randn(shape, generator=gen, dtype=torch.float64)
    while True:
        bad = x.abs() > 2
        if not bad.any():
            return x * std
        x[bad] = torch.randn(int(bad.sum()), generator=gen, dtype=torch.float64)


def glorot(shape, fan_in, fan_out, gen):
    bound = np.sqrt(6 / (fan_in + fan_out))
    return (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound


def init_params(sizes, n_m, dims, gen):
    """Per layer W (n_in x n_out), b, u (n_in x d), v (n_out x d); then the global kernel matrix."""
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params += [
            glorot((n_in, n_out), n_in, n_out, gen),
            glorot((n_out,), n_out, n_out, gen),
            truncated_normal((n_in, 1, dims), 1e-3, gen),
            truncated_normal((1, n_out, dims), 1e-3, gen),
        ]
    params.append(truncated_normal((n_m, 9), 0.1, gen))
    return params


def kernel_net(x, params, n_layers, lam_s, lam_2):
    """The local-kernel layers over x (n_m x n_u); returns the output and the penalties."""
    reg = 0
    for l in range(n_layers + 1):
        W, b, u, v = params[4 * l : 4 * l + 4]
        k = torch.clamp(1 - ((u - v) ** 2).sum(2), min=0)
        reg = reg + lam_s * (k**2).sum() / 2 + lam_2 * (W**2).sum() / 2
        x = x @ (W * k) + b
        if l < n_layers:
            x = torch.sigmoid(x)
    return x, reg


def global_input(R, params, n_layers, lam_s, lam_2, dot_scale):
    pre, _ = kernel_net(R, params, n_layers, lam_s, lam_2)
    gk = (pre.mean(1, keepdim=True).T @ params[-1]) * dot_scale
    return torch.relu(F.conv2d(R[None, None], gk.view(1, 1, 3, 3), padding=1))[0, 0]


def objective(R, M, params, finetune, n_layers, lam_s, lam_2, dot_scale):
    x = global_input(R, params, n_layers, lam_s, lam_2, dot_scale) if finetune else R
    pred, reg = kernel_net(x, params, n_layers, lam_s, lam_2)
    return ((M * (R - pred)) ** 2).sum() / 2 + reg, pred


def dense(lines, n_m, n_u):
    R = np.zeros((n_m, n_u), dtype=np.float32)
    R[lines[:, 1].astype(int), lines[:, 0].astype(int)] = lines[:, 2]
    return R


def write_fixture(path):
    gen = torch.Generator().manual_seed(3)
    n_u, n_m, hidden, n_layers, dims = 10, 12, 6, 2, 3
    mask = torch.rand((n_m, n_u), generator=gen) < 0.4
    R = torch.where(mask, torch.randint(1, 6, (n_m, n_u), generator=gen).double(), torch.zeros(n_m, n_u, dtype=torch.float64))
    M = (R > 0).double()
    sizes = [n_u] + [hidden] * n_layers + [n_u]
    params = init_params(sizes, n_m, dims, gen)
    # Embeddings spread so that part of each kernel is flat at 0.
    for l in range(n_layers + 1):
        params[4 * l + 2] = torch.randn(params[4 * l + 2].shape, generator=gen, dtype=torch.float64) * 0.35
        params[4 * l + 3] = torch.randn(params[4 * l + 3].shape, generator=gen, dtype=torch.float64) * 0.35
    out = {"nUsers": n_u, "nItems": n_m, "hidden": [hidden] * n_layers, "dims": dims, "lambda2": 0.7, "lambdaS": 0.3, "dotScale": 0.5}
    rows, cols = np.nonzero(R.numpy())
    out["ratings"] = [[int(u), int(m), float(R[m, u])] for m, u in zip(rows, cols)]
    out["params"] = [p.reshape(-1).tolist() for p in params]
    for name, finetune in (("pretrain", False), ("finetune", True)):
        ps = [p.clone().requires_grad_(True) for p in params]
        loss, _ = objective(R, M, ps, finetune, n_layers, 0.3, 0.7, 0.5)
        loss.backward()
        grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in ps]
        out[name] = {"loss": loss.item(), "grads": [g.reshape(-1).tolist() for g in grads]}
    with open(path, "w") as f:
        json.dump(out, f)


if args.fixture:
    write_fixture(args.fixture)
    raise SystemExit(0)

with open(args.train) as f:
    n_u, n_m = map(int, f.readline().split())
train = np.loadtxt(args.train, skiprows=1, dtype=np.float32, ndmin=2)
test = np.loadtxt(args.test, skiprows=1, dtype=np.float32, ndmin=2)
rng = np.random.default_rng(args.seed)
held = rng.random(len(train)) < args.validation
R = torch.from_numpy(dense(train[~held], n_m, n_u))
M = (R > 0).float()
V = torch.from_numpy(dense(train[held], n_m, n_u))
T = torch.from_numpy(dense(test, n_m, n_u))
gen = torch.Generator().manual_seed(args.seed)
params = [p.float() for p in init_params([n_u] + [args.hidden] * args.layers + [n_u], n_m, args.dims, gen)]
shapes = [p.shape for p in params]
sizes = [p.numel() for p in params]
hyper = (args.layers, args.lambda_s, args.lambda_2, args.dot_scale)


def unflatten(x):
    out, at = [], 0
    for shape, n in zip(shapes, sizes):
        out.append(torch.from_numpy(x[at : at + n].astype(np.float32)).view(shape).requires_grad_(True))
        at += n
    return out


def rmse(pred, target):
    mask = target > 0
    return float(torch.sqrt(((pred.clamp(1, 5) - target)[mask] ** 2).mean()))


x = np.concatenate([p.reshape(-1).numpy() for p in params]).astype(np.float64)
history = []
started = time.time()
for epoch in range(args.pretrain_epochs + args.finetune_epochs):
    finetune = epoch >= args.pretrain_epochs
    tic = time.time()

    def fun(z):
        ps = unflatten(z)
        loss, _ = objective(R, M, ps, finetune, *hyper)
        loss.backward()
        grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in ps]
        return float(loss.detach()), np.concatenate([g.reshape(-1).numpy() for g in grads]).astype(np.float64)

    x = scipy.optimize.minimize(fun, x, jac=True, method="L-BFGS-B", options={"maxiter": args.iterations, "maxcor": 10}).x
    with torch.no_grad():
        _, pred = objective(R, M, unflatten(x), finetune, *hyper)
    history.append({"epoch": epoch + 1, "seconds": time.time() - tic, "validation": rmse(pred, V) if held.any() else None, "test": rmse(pred, T)})
    print(json.dumps(history[-1]), flush=True)

fine = history[args.pretrain_epochs :] or history
chosen = min(fine, key=lambda h: h["validation"]) if held.any() else fine[-1]
print(
    json.dumps(
        {
            "seconds": time.time() - started,
            "chosenEpoch": chosen["epoch"],
            "testAtChosen": chosen["test"],
            "bestTest": min(h["test"] for h in fine),
            "lastTest": fine[-1]["test"],
            "peakMemoryMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "history": history,
        }
    )
)
