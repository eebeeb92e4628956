"""A PyTorch Mult-VAE (Liang et al. 2018), the peer of aerec's `mult-vae` in bench/mult-vae.mjs.

Usage: python bench/peers/mult_vae.py POSITIVES.i32 N_USERS N_ITEMS [--epochs 5] [--threads 2]

The paper's model as its PyTorch ports write it: each batch of 500 users as a dense float32 tensor,
L2-normalised, dropout 0.5, tanh layers I-600-(200 mu, 200 log-variance)-600-I, the multinomial
log-likelihood plus beta (0.2 here) times the KL term, Adam lr 1e-3. Prints one JSON line with the seconds
of each training epoch and the peak memory.
"""

import argparse
import json
import resource
import time

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("positives")
parser.add_argument("n_users", type=int)
parser.add_argument("n_items", type=int)
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--batch", type=int, default=500)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(1)

pairs = np.fromfile(args.positives, dtype="<i4").reshape(-1, 2)
X = sp.csr_matrix(
    (np.ones(len(pairs), dtype=np.float32), (pairs[:, 0], pairs[:, 1])), shape=(args.n_users, args.n_items)
)
users = np.flatnonzero(np.diff(X.indptr) > 0)


class MultVAE(nn.Module):
    def __init__(self, n_items, hidden=600, code=200):
        super().__init__()
        self.code = code
        self.q1 = nn.Linear(n_items, hidden)
        self.q2 = nn.Linear(hidden, 2 * code)
        self.p1 = nn.Linear(code, hidden)
        self.p2 = nn.Linear(hidden, n_items)

    def forward(self, x):
        h = F.dropout(F.normalize(x), 0.5, training=self.training)
        h = torch.tanh(self.q1(h))
        mu, logvar = self.q2(h).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.p2(torch.tanh(self.p1(z))), mu, logvar


model = MultVAE(args.n_items)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
epoch_seconds = []
for epoch in range(args.epochs):
    started = time.perf_counter()
    model.train()
    order = np.random.default_rng(epoch).permutation(users)
    for at in range(0, len(order), args.batch):
        x = torch.from_numpy(X[order[at : at + args.batch]].toarray())
        logits, mu, logvar = model(x)
        nll = -(F.log_softmax(logits, 1) * x).sum(1).mean()
        kl = 0.5 * (logvar.exp() + mu**2 - 1 - logvar).sum(1).mean()
        loss = nll + 0.2 * kl
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    epoch_seconds.append(time.perf_counter() - started)
print(json.dumps({
    "epochSeconds": epoch_seconds,
    "peakMemoryMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "torch": torch.__version__,
}))
