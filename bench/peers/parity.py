"""Writes PyTorch parity fixtures for aerec's tests: test/fixtures/sae-parity.json.

Usage: python bench/peers/parity.py [OUT.json]

A tiny stacked autoencoder (7 movies, 5 users, hidden 4-3-4, sigmoid) on fixed sparse ratings, trained
the tutorial's way (one user per step, outputs zeroed where the target is 0, nn.MSELoss over all columns,
RMSprop lr 0.01 weight decay 0.5) with and without resetting the gradients, and the corrected way (batches
of 2 users, mean squared error over observed ratings, Adam). Records the initial weights and the weights
after 1 and 10 steps, in PyTorch's names and layouts, with the loss of every step. Also an item-based
AutoRec trained by torch.optim.LBFGS (strong Wolfe) for 8 iterations on the same ratings.
"""

import json
import sys

import torch
import torch.nn as nn

torch.manual_seed(0)
N_USERS, N_ITEMS, HIDDEN = 5, 7, [4, 3, 4]
RATINGS = [
    (0, 0, 5), (0, 2, 3), (0, 6, 1),
    (1, 1, 4), (1, 2, 2), (1, 3, 5), (1, 5, 3),
    (2, 0, 1), (2, 4, 4),
    (3, 0, 2), (3, 1, 3), (3, 3, 4), (3, 4, 5), (3, 6, 2),
    (4, 5, 5),
]
dense = torch.zeros(N_USERS, N_ITEMS)
for u, i, r in RATINGS:
    dense[u, i] = r


class SAE(nn.Module):
    def __init__(self):
        super().__init__()
        sizes = [N_ITEMS, *HIDDEN, N_ITEMS]
        self.fcs = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))

    def forward(self, x):
        for fc in self.fcs[:-1]:
            x = torch.sigmoid(fc(x))
        return self.fcs[-1](x)


def state(model):
    return {f"fc{k + 1}.{kind}": getattr(fc, kind).detach().flatten().tolist() for k, fc in enumerate(model.fcs) for kind in ("weight", "bias")}


def tutorial_run(init, reset):
    model = SAE()
    model.load_state_dict(init)
    criterion = nn.MSELoss()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.01, weight_decay=0.5)
    out = {"losses": []}
    for step in range(1, 11):
        user = (step - 1) % N_USERS
        if reset:
            optimizer.zero_grad()
        x = dense[user].unsqueeze(0)
        target = x.clone()
        output = model(x)
        output[target == 0] = 0
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()
        out["losses"].append(loss.item())
        if step in (1, 10):
            out[f"after{step}"] = state(model)
    return out


def adam_run(init):
    model = SAE()
    model.load_state_dict(init)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=0.001)
    out = {"losses": []}
    batches = [[0, 1], [2, 3], [4, 0], [1, 2], [3, 4]]
    for step in range(1, 11):
        users = batches[(step - 1) % len(batches)]
        optimizer.zero_grad()
        x = dense[users]
        mask = x > 0
        output = model(x)
        loss = ((output - x)[mask] ** 2).sum() / mask.sum()
        loss.backward()
        optimizer.step()
        out["losses"].append(loss.item())
        if step in (1, 10):
            out[f"after{step}"] = state(model)
    return out


def lbfgs_run():
    """Item-based AutoRec (rows = movies, 5 user inputs, 3 sigmoid units), full-batch L-BFGS, strong Wolfe."""
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(N_USERS, 3), nn.Sigmoid(), nn.Linear(3, N_USERS))
    init = {f"fc{k + 1}.{kind}": getattr(model[i], kind).detach().flatten().tolist() for k, i in enumerate((0, 2)) for kind in ("weight", "bias")}
    items = dense.t()
    mask = items > 0
    n_obs = float(mask.sum())
    lam = 0.5
    # One step() of 8 iterations; max_eval is lifted so that every line search may use its 25 evaluations
    # (PyTorch caps a line search at the step's remaining evaluation budget).
    optimizer = torch.optim.LBFGS(
        model.parameters(), lr=1, history_size=10, max_iter=8, max_eval=1000, line_search_fn="strong_wolfe"
    )

    def closure():
        optimizer.zero_grad()
        out = model(items)
        loss = (((out - items)[mask] ** 2).sum() + lam / 2 * (model[0].weight.pow(2).sum() + model[2].weight.pow(2).sum())) / n_obs
        loss.backward()
        return loss

    optimizer.step(closure)
    losses = [closure().item()]
    after = {f"fc{k + 1}.{kind}": getattr(model[i], kind).detach().flatten().tolist() for k, i in enumerate((0, 2)) for kind in ("weight", "bias")}
    return {"lambda": lam, "hidden": 3, "init": init, "losses": losses, "after8": after}


init_model = SAE()
init = {f"fcs.{k}.{kind}": v for k, fc in enumerate(init_model.fcs) for kind, v in (("weight", fc.weight), ("bias", fc.bias))}
init = {k: v.detach().clone() for k, v in init.items()}
fixture = {
    "torch": torch.__version__,
    "nUsers": N_USERS,
    "nItems": N_ITEMS,
    "hidden": HIDDEN,
    "ratings": RATINGS,
    "init": state(init_model),
    "runs": {
        "rmsprop-accumulate": {"lr": 0.01, "weightDecay": 0.5, **tutorial_run(init, reset=False)},
        "rmsprop-reset": {"lr": 0.01, "weightDecay": 0.5, **tutorial_run(init, reset=True)},
        "adam-batches": {"lr": 0.01, "weightDecay": 0.001, "batches": [[0, 1], [2, 3], [4, 0], [1, 2], [3, 4]], **adam_run(init)},
    },
    "lbfgs": lbfgs_run(),
}
path = sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/sae-parity.json"
with open(path, "w") as f:
    json.dump(fixture, f)
print(f"wrote {path}")
