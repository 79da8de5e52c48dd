"""Reference timing: PyTorch's fused nn.LSTM, timed inside Python.

Usage: torch_lstm.py T B In H [repeats] [forward|backward]  ->  one JSON line {"ms": median, "threads", "torch"}.
forward (default): the forward alone, recording nothing (torch.no_grad()).
backward: autograd's forward and backward of L = mean(output²), `out.pow(2).mean().backward()`
(every parameter's gradient; the input needs none).
Warm-up runs first; the median of `repeats` timed runs is reported, in milliseconds.
"""
import sys

import torch
from torch_timing import report

T, B, In, H = (int(a) for a in sys.argv[1:5])
repeats = int(sys.argv[5]) if len(sys.argv) > 5 else 7
mode = sys.argv[6] if len(sys.argv) > 6 else "forward"
if mode not in ("forward", "backward"):
    sys.exit(f"mode must be forward or backward, got {mode!r}")
torch.manual_seed(0)
lstm = torch.nn.LSTM(In, H)
x = torch.randn(T, B, In)


def forward():
    with torch.no_grad():
        lstm(x)


def backward():
    lstm.zero_grad(set_to_none=True)
    out, _ = lstm(x)
    out.pow(2).mean().backward()


report(forward if mode == "forward" else backward, repeats)
