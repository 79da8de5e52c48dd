"""Reference timing: PyTorch's fused nn.LSTM forward (records nothing), timed inside Python.

Usage: torch_lstm.py T B In H [repeats]  ->  one JSON line {"ms": median, "threads", "torch"}.
Warm-up runs first; the median of `repeats` timed forwards is reported, in milliseconds.
"""
import json
import statistics
import sys
import time

import torch

T, B, In, H = (int(a) for a in sys.argv[1:5])
repeats = int(sys.argv[5]) if len(sys.argv) > 5 else 7
torch.manual_seed(0)
lstm = torch.nn.LSTM(In, H)
x = torch.randn(T, B, In)
with torch.no_grad():
    for _ in range(3):
        lstm(x)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        lstm(x)
        times.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"ms": statistics.median(times), "threads": torch.get_num_threads(), "torch": torch.__version__}))
