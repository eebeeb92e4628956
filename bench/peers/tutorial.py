"""The PyTorch tutorial's stacked autoencoder, as the tutorial writes it (see README.md beside this file).

Usage: python bench/peers/tutorial.py ML100K_FOLDER [--epochs 200] [--threads N] [--seed S]

Kept as written on purpose, quirks included: pandas' default header drops the first rating of u1.base and
u1.test, the gradients are never reset, and the dense users x movies matrix is built. The only additions
are the command-line arguments, the timer, the global RMSE (clipped to 1..5, over the test ratings the
tutorial kept) and a JSON summary on the last line of stdout.
"""

import argparse
import json
import resource
import sys
import time

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.optim as optim
from torch.autograd import Variable

parser = argparse.ArgumentParser()
parser.add_argument("folder")
parser.add_argument("--epochs", type=int, default=200)
parser.add_argument("--threads", type=int, default=0)
parser.add_argument("--seed", type=int, default=None)
args = parser.parse_args()
if args.threads:
    torch.set_num_threads(args.threads)
if args.seed is not None:
    torch.manual_seed(args.seed)

started = time.perf_counter()
training_set = pd.read_csv(f"{args.folder}/u1.base", delimiter="\t")
training_set = np.array(training_set, dtype="int")
test_set = pd.read_csv(f"{args.folder}/u1.test", delimiter="\t")
test_set = np.array(test_set, dtype="int")

nb_users = int(max(max(training_set[:, 0]), max(test_set[:, 0])))
nb_movies = int(max(max(training_set[:, 1]), max(test_set[:, 1])))


def convert(data):
    new_data = []
    for id_users in range(1, nb_users + 1):
        id_movies = data[:, 1][data[:, 0] == id_users]
        id_ratings = data[:, 2][data[:, 0] == id_users]
        ratings = np.zeros(nb_movies)
        ratings[id_movies - 1] = id_ratings
        new_data.append(list(ratings))
    return new_data


training_set = convert(training_set)
test_set = convert(test_set)
training_set = torch.FloatTensor(training_set)
test_set = torch.FloatTensor(test_set)


class SAE(nn.Module):
    def __init__(self):
        super(SAE, self).__init__()
        self.fc1 = nn.Linear(nb_movies, 20)
        self.fc2 = nn.Linear(20, 10)
        self.fc3 = nn.Linear(10, 20)
        self.fc4 = nn.Linear(20, nb_movies)
        self.activation = nn.Sigmoid()

    def forward(self, x):
        x = self.activation(self.fc1(x))
        x = self.activation(self.fc2(x))
        x = self.activation(self.fc3(x))
        x = self.fc4(x)
        return x


sae = SAE()
criterion = nn.MSELoss()
optimizer = optim.RMSprop(sae.parameters(), lr=0.01, weight_decay=0.5)

nb_epoch = args.epochs
train_started = time.perf_counter()
for epoch in range(1, nb_epoch + 1):
    train_loss = 0
    s = 0.0
    for id_user in range(nb_users):
        input = Variable(training_set[id_user]).unsqueeze(0)
        target = input.clone()
        if torch.sum(target.data > 0) > 0:
            output = sae(input)
            target.require_grad = False
            output[target == 0] = 0
            loss = criterion(output, target)
            mean_corrector = nb_movies / float(torch.sum(target.data > 0) + 1e-10)
            loss.backward()
            train_loss += np.sqrt(loss.data * mean_corrector)
            s += 1.0
            optimizer.step()
    print("epoch: " + str(epoch) + " loss: " + str(train_loss / s), file=sys.stderr, flush=True)
train_seconds = time.perf_counter() - train_started

test_loss = 0
s = 0.0
squared, absolute, count = 0.0, 0.0, 0
for id_user in range(nb_users):
    input = Variable(training_set[id_user]).unsqueeze(0)
    target = Variable(test_set[id_user]).unsqueeze(0)
    if torch.sum(target.data > 0) > 0:
        output = sae(input)
        target.require_grad = False
        # Global RMSE/MAE (an addition): clipped predictions at this user's test ratings.
        rated = target.data > 0
        error = output.data[rated].clamp(1, 5) - target.data[rated]
        squared += float((error**2).sum())
        absolute += float(error.abs().sum())
        count += int(rated.sum())
        output[target == 0] = 0
        loss = criterion(output, target)
        mean_corrector = nb_movies / float(torch.sum(target.data > 0) + 1e-10)
        test_loss += np.sqrt(loss.data * mean_corrector)
        s += 1.0
print("test loss: " + str(test_loss / s), file=sys.stderr)
print(
    json.dumps(
        {
            "peer": "pytorch-tutorial",
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "epochs": nb_epoch,
            "trainSeconds": train_seconds,
            "seconds": time.perf_counter() - started,
            "nTrain": int((training_set > 0).sum()),
            "nTest": count,
            "trainLoss": float(train_loss / s) if nb_epoch > 0 else None,
            "test": {"rmse": (squared / count) ** 0.5, "mae": absolute / count, "tutorialLoss": float(test_loss / s)},
            "peakMemoryMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )
)
