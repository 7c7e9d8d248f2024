#!/usr/bin/python3
"""Reference GCN in PyTorch for bench/gnn_bench: the same model, batches and optimiser as
src/analytics/gnn (models.cpp, trainer.cpp), on the dataset gnn_bench writes. Prints the training-pass time
per epoch as a JSON line.

Run by gnn_bench; by hand: /usr/bin/python3 bench/gnn_reference.py DATASET_DIR --epochs 5 --threads 1
(Debian's python3-torch lives under /usr/bin/python3.)
"""
import argparse
import json
import os
import time

import numpy as np
import torch


def load(directory):
    meta = json.load(open(os.path.join(directory, "meta.json")))
    n, s, f = meta["nodes"], meta["snapshots"], meta["features"]
    x = np.fromfile(os.path.join(directory, "x.f32"), dtype=np.float32).reshape(s * n, f)
    mask = np.fromfile(os.path.join(directory, "label_mask.u8"), dtype=np.uint8).astype(bool)
    ret = np.fromfile(os.path.join(directory, "label_return.f32"), dtype=np.float32)
    offsets = np.fromfile(os.path.join(directory, "edge_offsets.i64"), dtype=np.int64)
    pairs = np.fromfile(os.path.join(directory, "edge_pairs.i32"), dtype=np.int32).reshape(-1, 2)
    weights = np.fromfile(os.path.join(directory, "edge_weights.f32"), dtype=np.float32)
    return meta, x, mask, ret, offsets, pairs, weights


def gcn_batch(meta, x, mask, ret, offsets, pairs, weights, begin, end):
    """Snapshots [begin, end) as one block-diagonal graph with A_hat = D^-1/2 (A + I) D^-1/2 (|w| degree)."""
    n = meta["nodes"]
    rows = (end - begin) * n
    e0, e1 = offsets[begin], offsets[end]
    snap = np.repeat(np.arange(begin, end), np.diff(offsets[begin:end + 1]))
    base = (snap - begin) * n
    a = pairs[e0:e1, 0] + base
    b = pairs[e0:e1, 1] + base
    w = weights[e0:e1].astype(np.float64)
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    ww = np.concatenate([w, w])
    degree = np.ones(rows)
    np.add.at(degree, src, np.abs(ww))
    values = ww / np.sqrt(degree[src] * degree[dst])
    self_idx = np.arange(rows)
    index = np.stack([np.concatenate([src, self_idx]), np.concatenate([dst, self_idx])])
    value = np.concatenate([values, 1.0 / degree]).astype(np.float32)
    adj = torch.sparse_coo_tensor(torch.from_numpy(index.astype(np.int64)), torch.from_numpy(value),
                                  (rows, rows)).coalesce()
    lo, hi = begin * n, end * n
    return {
        "x": torch.from_numpy(x[lo:hi].copy()),
        "adj": adj,
        "mask": torch.from_numpy(mask[lo:hi].copy()),
        "target": torch.from_numpy((ret[lo:hi] > 0).astype(np.float32)),
        "labelled": int(mask[lo:hi].sum()),
    }


class GCN(torch.nn.Module):
    def __init__(self, features, hidden, layers):
        super().__init__()
        dims = [features] + [hidden] * (layers - 1) + [1]
        self.lins = torch.nn.ModuleList(torch.nn.Linear(dims[i], dims[i + 1], bias=False) for i in range(layers))
        self.biases = torch.nn.ParameterList(torch.nn.Parameter(torch.zeros(dims[i + 1])) for i in range(layers))

    def forward(self, g):
        h = g["x"]
        for i, (lin, bias) in enumerate(zip(self.lins, self.biases)):
            h = torch.mm(g["adj"], lin(h)) + bias
            if i + 1 < len(self.lins):
                h = torch.relu(h)
        return h.squeeze(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    meta, x, mask, ret, offsets, pairs, weights = load(args.dataset)
    hp = meta["hyperparameters"]
    per = hp["batch_snapshots"]
    batches = []
    for b in range(meta["train_begin"], meta["train_end"], per):
        g = gcn_batch(meta, x, mask, ret, offsets, pairs, weights, b, min(meta["train_end"], b + per))
        if g["labelled"] > 0:
            batches.append(g)
    model = GCN(meta["features"], hp["hidden"], hp["layers"])
    opt = torch.optim.Adam(model.parameters(), lr=hp["learning_rate"], weight_decay=hp["weight_decay"])
    times = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.train()
        for k in torch.randperm(len(batches)).tolist():
            g = batches[k]
            opt.zero_grad()
            out = model(g)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(out[g["mask"]], g["target"][g["mask"]])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    print(json.dumps({"seconds_per_epoch": sum(times) / len(times), "epochs": args.epochs,
                      "batches": len(batches), "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
