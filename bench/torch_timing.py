"""The one timing loop of the PyTorch reference scripts: warm-up runs, then the median of timed runs,
printed as one JSON line {"ms": median, "threads", "torch"} (what bench/measure.ts reads)."""
import json, statistics, time

import torch


def report(run, repeats, warmup=3):
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"ms": statistics.median(times), "threads": torch.get_num_threads(), "torch": torch.__version__}))
