"""Reference timing: the Graphviz reference's ConvAutoEncoder in PyTorch (float32, eval mode, no
autograd), forward on one [1, 3, S, S] image keeping every block's output — what archlab's run records.

Usage: torch_cae.py [S] [repeats]  ->  one JSON line {"ms": median, "threads", "torch"}.
"""
import os, sys

import torch
from torch_timing import report

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src", "zoo", "fixtures"))
from torch_models import cae_forward, conv_auto_encoder  # noqa: E402

S = int(sys.argv[1]) if len(sys.argv) > 1 else 256
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
torch.manual_seed(0)
cae = conv_auto_encoder().eval()
x = torch.randn(1, 3, S, S)


def run():
    with torch.no_grad():
        cae_forward(cae, x)


report(run, repeats, warmup=2)
