#!/usr/bin/python3
"""Train one of ctnet's MNIST networks in PyTorch and write its state_dict as safetensors that ctnet loads.

  /usr/bin/python3 scripts/train_torch_mnist.py --epochs 1 --out flagship_torch.safetensors
  build/examples/mnist_predict --model flagship_torch.safetensors --test 10

The networks are written here as a PyTorch user writes them (nn.Sequential, PyTorch's own layers), layer for
layer the networks of examples/mnist_models.hpp, so their state_dict names and shapes are ctnet's; the file is
written by scripts/ctnet_torch.py (PyTorch 1.13 has no safetensors writer) and mnist_predict picks the network
its tensors fit. Inputs are normalised as ctnet's examples normalise them (mean 0.1307, std 0.3081).
Needs Debian's python3-torch (use /usr/bin/python3) and the MNIST files in --data (.gz or not)."""
import argparse
import gzip
import os
import struct
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctnet_torch  # noqa: E402

MEAN, STD = 0.1307, 0.3081


def _block(cin, cout, p):
    return [nn.Conv2d(cin, cout, 3, bias=False), nn.BatchNorm2d(cout), nn.ReLU(), nn.Dropout(p)]


def mnist_step3_gap():
    """ctnet's flagship (mnist::Step3Gap): 7,768 parameters, global average pooling."""
    return nn.Sequential(*_block(1, 8, 0.05), *_block(8, 16, 0.05),
                         nn.Conv2d(16, 10, 1, bias=False), nn.MaxPool2d(2),
                         *_block(10, 16, 0.05), *_block(16, 16, 0.05), *_block(16, 16, 0.05),
                         nn.AdaptiveAvgPool2d(1), nn.Conv2d(16, 10, 1, bias=False), nn.Flatten(), nn.LogSoftmax(dim=1))


def mnist_step2_bn_dropout():
    """mnist::Step2BnDropout: BatchNorm after every conv, dropout 0.1, a fully-connected head."""
    return nn.Sequential(*_block(1, 16, 0.1), *_block(16, 16, 0.1), nn.MaxPool2d(2),
                         *_block(16, 32, 0.1), *_block(32, 32, 0.1), nn.MaxPool2d(2), *_block(32, 32, 0.1),
                         nn.Flatten(), nn.Linear(128, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.1),
                         nn.Linear(32, 10), nn.LogSoftmax(dim=1))


MODELS = {"mnist_step3_gap": mnist_step3_gap, "mnist_step2_bn_dropout": mnist_step2_bn_dropout}


def _read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def load_mnist(data_dir, train):
    """(images [N, 1, 28, 28] normalised as ctnet's examples do, labels [N]) of one split."""
    prefix = "train" if train else "t10k"
    files = []
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        path = os.path.join(data_dir, f"{prefix}-{kind}")
        files.append(path if os.path.exists(path) else path + ".gz")
    images, labels = (_read_idx(p) for p in files)
    x = (images.float().div(255.0).unsqueeze(1) - MEAN) / STD
    return x, labels.long()


def train(model, x, y, epochs, batch, lr, seed, log=print):
    """SGD with momentum and NLL loss (the networks end in LogSoftmax), as ctnet's examples train."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=g)
        total, start = 0.0, time.time()
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            opt.zero_grad()
            loss = nn.functional.nll_loss(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        log(f"epoch {epoch + 1}: loss {total / len(x):.4f} ({time.time() - start:.1f} s)")
    return model.eval()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=sorted(MODELS), default="mnist_step3_gap")
    p.add_argument("--data", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                  "data", "mnist"))
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--train-limit", type=int, default=0, help="use only the first N training images")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: PyTorch's choice)")
    p.add_argument("--out", required=True, help="the safetensors file to write")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    try:
        x, y = load_mnist(a.data, True)
        tx, ty = load_mnist(a.data, False)
    except (OSError, ValueError, RuntimeError) as e:
        sys.exit(f"error: cannot read MNIST from {a.data}: {e}")
    if a.train_limit > 0:
        x, y = x[:a.train_limit], y[:a.train_limit]
    model = train(MODELS[a.model](), x, y, a.epochs, a.batch, a.lr, a.seed)
    with torch.no_grad():
        accuracy = sum((model(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum().item()
                       for i in range(0, len(tx), 1000)) / len(tx)
    print(f"PyTorch test accuracy {100 * accuracy:.2f}%")
    ctnet_torch.save_state_dict(model, a.out, {"trained_with": f"PyTorch {torch.__version__}"})
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
