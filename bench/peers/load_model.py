"""Loads an aerec model file into PyTorch with the safetensors package and checks its predictions.

Usage: python bench/peers/load_model.py MODEL.safetensors PREDICTIONS.json

PREDICTIONS.json holds {"pairs": [[userIndex, movieIndex], ...], "predictions": [...]}: dense indices and
aerec's raw outputs (before clipping and fallbacks) for those pairs. The script rebuilds the network from
the header (layers, activations, orientation, input offset and scaling) with torch.nn.Linear layers whose
weights come straight from the file, runs it on the stored training ratings, and prints the largest
difference. Exits 1 when it exceeds 1e-4.
"""

import json
import sys

import torch
import torch.nn as nn
from safetensors import safe_open
from safetensors.torch import load_file

path, predictions_path = sys.argv[1], sys.argv[2]
with safe_open(path, framework="pt") as f:
    header = json.loads(f.metadata()["aerec"])
tensors = load_file(path)
config = header["config"]
n_users, n_items = header["nUsers"], header["nItems"]
sizes = [n_items if config["orientation"] == "user" else n_users, *config["hidden"]]
sizes.append(sizes[0])
activations = {"sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "relu": nn.ReLU(), "elu": nn.ELU(), "selu": nn.SELU(), "identity": nn.Identity()}

layers = []
for k in range(len(sizes) - 1):
    linear = nn.Linear(sizes[k], sizes[k + 1])
    linear.weight.data = tensors[f"fc{k + 1}.weight"]
    linear.bias.data = tensors[f"fc{k + 1}.bias"]
    layers.append(linear)
    last = k == len(sizes) - 2
    layers.append(activations[config["outputActivation"] if last else config["activation"]])
model = nn.Sequential(*layers)

# The training ratings, as the dense matrix the PyTorch model reads (rows = users or movies): each observed
# rating raised by the input offset, then each row scaled as the header says; unobserved entries stay 0.
indptr, items, values = tensors["ratings.indptr"], tensors["ratings.items"], tensors["ratings.values"]
dense = torch.zeros(n_users, n_items)
observed = torch.zeros(n_users, n_items)
for u in range(n_users):
    start, end = int(indptr[u]), int(indptr[u + 1])
    dense[u, items[start:end].long()] = values[start:end] + config.get("inputOffset", 0)
    observed[u, items[start:end].long()] = 1
rows = dense if config["orientation"] == "user" else dense.t().contiguous()
mask = observed if config["orientation"] == "user" else observed.t().contiguous()
if config["inputScaling"] == "inverse-sqrt-count":
    rows = rows / mask.sum(dim=1, keepdim=True).clamp(min=1).sqrt()

expected = json.load(open(predictions_path))
with torch.no_grad():
    out = model(rows)
worst = 0.0
for (u, i), p in zip(expected["pairs"], expected["predictions"]):
    ours = out[u, i] if config["orientation"] == "user" else out[i, u]
    worst = max(worst, abs(float(ours) - p))
print(json.dumps({"model": header["kind"], "pairs": len(expected["pairs"]), "maxDifference": worst, "torch": torch.__version__}))
sys.exit(0 if worst <= 1e-4 else 1)
