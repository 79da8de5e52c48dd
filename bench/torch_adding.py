"""Reference for the adding-problem row (bench/adding.ts): PyTorch trains the same model on the same data.

Usage: torch_adding.py DIR  ->  one JSON line {"ms", "steps", "testMse", "threads", "torch"}.
DIR holds what bench/adding.ts wrote: meta.json (sizes, step budget, evaluation interval, learning
rate, and the initial weights as a state dict of rnn = nn.LSTM(In, H), head = nn.Linear(H, 1)),
train.bin (the training batches' inputs [steps, T, B, In] then targets [steps, B, 1], float32, from
archlab's seeded task generator) and test.bin (the test inputs [T, N, In] then targets [N, 1]).
Adam, the loss nn.MSELoss on the last step's prediction, no clipping; the test MSE is evaluated every
`every` steps, inside the timed loop (as archlab's side does). The wall time and steps to the first
test MSE below `target` are reported, or the whole budget's with "steps": null.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

folder = Path(sys.argv[1])
meta = json.loads((folder / "meta.json").read_text())
T, B, In, H, N, S = (meta[k] for k in ("T", "B", "In", "H", "N", "steps"))
train = np.fromfile(folder / "train.bin", dtype=np.float32)
xs = torch.from_numpy(train[: S * T * B * In].reshape(S, T, B, In))
ys = torch.from_numpy(train[S * T * B * In :].reshape(S, B, 1))
test = np.fromfile(folder / "test.bin", dtype=np.float32)
test_x = torch.from_numpy(test[: T * N * In].reshape(T, N, In))
test_y = torch.from_numpy(test[T * N * In :].reshape(N, 1))

rnn = torch.nn.LSTM(In, H)
head = torch.nn.Linear(H, 1)
with torch.no_grad():
    for name, p in [*(("rnn." + n, p) for n, p in rnn.named_parameters()), *(("head." + n, p) for n, p in head.named_parameters())]:
        p.copy_(torch.tensor(meta["state"][name], dtype=torch.float32))
params = [*rnn.parameters(), *head.parameters()]
opt = torch.optim.Adam(params, lr=meta["lr"])
mse = torch.nn.MSELoss()


def test_mse():
    with torch.no_grad():
        out, _ = rnn(test_x)
        return mse(head(out[-1]), test_y).item()


reached, last = None, float("nan")
t0 = time.perf_counter()
for step in range(S):
    opt.zero_grad(set_to_none=True)
    out, _ = rnn(xs[step])
    mse(head(out[-1]), ys[step]).backward()
    opt.step()
    if (step + 1) % meta["every"] == 0:
        last = test_mse()
        if last < meta["target"]:
            reached = step + 1
            break
ms = (time.perf_counter() - t0) * 1000
print(json.dumps({"ms": ms, "steps": reached, "testMse": last, "threads": torch.get_num_threads(), "torch": torch.__version__}))
