"""Reference timing: torchvision's ResNet-18 (weights=None: nothing downloaded; float32, eval mode,
no autograd), forward on one [1, 3, S, S] image, keeping every basic block's output (forward hooks) —
what archlab's run records.

Usage: torch_resnet.py [S] [repeats]  ->  one JSON line {"ms": median, "threads", "torch"}.
"""
import sys

import torch
import torchvision
from torch_timing import report

S = int(sys.argv[1]) if len(sys.argv) > 1 else 224
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
torch.manual_seed(0)
net = torchvision.models.resnet18(weights=None).eval()
kept = []
for layer in [net.layer1, net.layer2, net.layer3, net.layer4]:
    for block in layer:
        block.register_forward_hook(lambda _m, _i, o: kept.append(o))  # append returns None: the output stays
x = torch.randn(1, 3, S, S)


def run():
    kept.clear()
    with torch.no_grad():
        net(x)


report(run, repeats, warmup=2)
