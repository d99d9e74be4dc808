#!/usr/bin/python3
"""ctnet_torch: ctnet checkpoints into PyTorch modules, and PyTorch state_dicts into files ctnet loads.

Importable (put scripts/ on sys.path) or run as a program; needs PyTorch (Debian's python3-torch 1.13 works:
use /usr/bin/python3) and NumPy.

  to_torch(path) -> nn.Module
      Rebuilds the network from the checkpoint's "architecture" metadata (PyTorch-style reprs, one line
      per layer), loads the file's tensors with load_state_dict(strict=True), runs a dry forward that
      checks every layer's output shape against the metadata, and returns the module in eval mode (F64
      checkpoints give a double module). BatchNorm's num_batches_tracked, which ctnet does not store, is
      set to the checkpoint's training step: ctnet counts one step per training-mode forward, which is
      exactly what PyTorch counts (it changes nothing at momentum 0.1, ctnet's and PyTorch's default).
      ctnet's optimizer and training-state tensors ("optimizer.*", "train.*") are not part of the module.
      A layer this module cannot rebuild (a user's own layer, say) is refused with an error naming it.
  save_state_dict(module_or_state_dict, path, metadata=None)
      Writes the state_dict as a safetensors file (PyTorch 1.13 has no safetensors writer): PyTorch's
      names, shapes and dtypes, metadata {"format": "pt"} plus the given string pairs. ctnet loads it into
      the network with the same names and shapes (load_checkpoint: a plain state_dict, matched strictly,
      every mismatch named); num_batches_tracked is written and ctnet ignores it.
  read_safetensors(path) -> (dict of name -> tensor, metadata dict)

Layers: Conv2d, Linear, BatchNorm1d/2d, MaxPool2d, AvgPool2d, GlobalAvgPool (AdaptiveAvgPool2d(1)), Flatten,
Dropout, Dropout2d, ReLU, Identity, Softmax, LogSoftmax, OneHot, Embedding and the combinators Sequential,
PerInput, Parallel (Heads), Concat, Select and Residual. Layouts are PyTorch's: conv weights
[out, in, kh, kw], linear [out, in], activations NCHW, Flatten in C, H, W order. A network with several
inputs takes them as separate arguments (image, digit); one with several heads returns a tuple.

  /usr/bin/python3 scripts/ctnet_torch.py show CHECKPOINT           print the rebuilt module
  /usr/bin/python3 scripts/ctnet_torch.py to-torch CHECKPOINT OUT.pt  torch.save its state_dict
  /usr/bin/python3 scripts/ctnet_torch.py from-torch IN.pt OUT.safetensors [--meta KEY=VALUE ...]
      (IN.pt: a torch.save'd state_dict or module)
"""
import argparse
import json
import os
import re
import struct
import sys

import torch
from torch import nn

__all__ = ["to_torch", "from_architecture", "save_state_dict", "read_safetensors", "write_safetensors",
           "CtnetTorchError"]


class CtnetTorchError(Exception):
    """A checkpoint this module cannot turn into a PyTorch module, or a state_dict it cannot write."""


# --- safetensors ---------------------------------------------------------------------------------------

_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
           "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
           "BOOL": torch.bool}
_NAMES = {v: k for k, v in _DTYPES.items()}


def read_safetensors(path):
    """The file's tensors (name -> CPU tensor, in file order) and its metadata (str -> str)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise CtnetTorchError(f"{path}: {len(data)} bytes, too short for a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise CtnetTorchError(f"{path}: header size {n} is larger than the file")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CtnetTorchError(f"{path}: header is not valid JSON ({e})") from None
    metadata = header.pop("__metadata__", {}) or {}
    buffer = memoryview(data)[8 + n:]
    tensors = {}
    for name, entry in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        dtype = _DTYPES.get(entry["dtype"])
        if dtype is None:
            raise CtnetTorchError(f"{path}: tensor '{name}' has dtype {entry['dtype']}, which this script does not read")
        begin, end = entry["data_offsets"]
        raw = bytearray(buffer[begin:end])
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes name -> tensor (in the given order) with string metadata; replaces `path` atomically."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype not in _NAMES:
            raise CtnetTorchError(f"tensor '{name}' has dtype {t.dtype}, which safetensors does not store")
        # NumPy has no bfloat16: its bytes travel as int16.
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # keeps the data 8-aligned, as the format recommends
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_state_dict(module_or_state_dict, path, metadata=None):
    """Writes a module's state_dict (or a state_dict) as safetensors that ctnet's load_checkpoint reads."""
    sd = module_or_state_dict.state_dict() if isinstance(module_or_state_dict, nn.Module) else module_or_state_dict
    if not isinstance(sd, dict):
        raise CtnetTorchError(f"expected an nn.Module or a state_dict, got {type(module_or_state_dict).__name__}")
    meta = {"format": "pt"}
    meta.update(metadata or {})
    if meta.get("format") == "ctnet":
        raise CtnetTorchError("metadata format=ctnet is reserved for ctnet's own checkpoints")
    write_safetensors(path, dict(sd), meta)


# --- the modules ctnet's layers become -----------------------------------------------------------------

class Network(nn.Sequential):
    """A ctnet network: its layers in order; several inputs are given as separate arguments."""

    def forward(self, *inputs):
        x = inputs[0] if len(inputs) == 1 else tuple(inputs)
        for layer in self:
            x = layer(x)
        return x


class PerInput(nn.Module):
    """Branch i reads component i of a tuple; the output is the tuple of their outputs."""

    def __init__(self, branches):
        super().__init__()
        for i, b in enumerate(branches):
            self.add_module(str(i), b)

    def forward(self, x):
        if len(x) != len(self._modules):
            raise ValueError(f"PerInput: {len(x)} inputs for {len(self._modules)} branches")
        return tuple(b(xi) for b, xi in zip(self._modules.values(), x))


class Parallel(nn.Module):
    """Every branch reads the same input; the output is the tuple of their outputs."""

    def __init__(self, branches):
        super().__init__()
        for i, b in enumerate(branches):
            self.add_module(str(i), b)

    def forward(self, x):
        return tuple(b(x) for b in self._modules.values())


class Residual(nn.Module):
    """y = x + block(x); the block is child "0", as ctnet names it."""

    def __init__(self, block):
        super().__init__()
        self.add_module("0", block)

    def forward(self, x):
        y = self._modules["0"](x)
        if isinstance(x, tuple):
            return tuple(a + b for a, b in zip(x, y))
        return x + y


class Concat(nn.Module):
    """torch.cat of a tuple's components along dim 1 (features of vectors, channels of images)."""

    def forward(self, x):
        return torch.cat(tuple(x), dim=1)


class Select(nn.Module):
    def __init__(self, index):
        super().__init__()
        self.index = index

    def forward(self, x):
        return x[self.index]

    def extra_repr(self):
        return str(self.index)


class OneHot(nn.Module):
    """An [N, 1] tensor of integers 0..n-1 (as floats, as ctnet takes them) to [N, n] one-hot rows."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, x):
        return nn.functional.one_hot(x.reshape(-1).long(), self.n).to(x.dtype if x.is_floating_point() else torch.float32)

    def extra_repr(self):
        return str(self.n)


class Embedding(nn.Embedding):
    """nn.Embedding reading an [N, 1] tensor of indices (floats, as ctnet takes them): [N, D]."""

    def forward(self, x):
        return super().forward(x.reshape(-1).long())


# --- the architecture text -----------------------------------------------------------------------------

class _Node:
    def __init__(self, index, text, shape):
        self.index, self.text, self.shape, self.children = index, text, shape, []


def _parse_architecture(text):
    """(input shape text, [top-level nodes]) from lines 'input S' and 'INDEX  Layer(...) -> S'."""
    lines = [l for l in text.splitlines() if l.strip()]
    if not lines or not lines[0].startswith("input "):
        raise CtnetTorchError("the architecture metadata does not start with an 'input' line")
    nodes, top = {}, []
    for line in lines[1:]:
        m = re.match(r"^(\d+(?:\.\d+)*) +(.*) -> (.*)$", line)
        if not m:
            raise CtnetTorchError(f"cannot read the architecture line '{line}'")
        node = _Node(m.group(1), m.group(2).strip(), m.group(3).strip())
        nodes[node.index] = node
        parent = node.index.rpartition(".")[0]
        if parent:
            if parent not in nodes:
                raise CtnetTorchError(f"architecture line '{line}' has no parent line {parent}")
            nodes[parent].children.append(node)
        else:
            top.append(node)
    return lines[0][len("input "):].strip(), top


def _args(text):
    """Positional and keyword arguments of a repr's argument list."""
    pos, kw = [], {}
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        key, eq, value = part.partition("=")
        value = value if eq else key
        try:
            v = {"True": True, "False": False}.get(value)
            v = v if v is not None else (float(value) if re.search(r"[.eE]", value) else int(value))
        except ValueError:
            v = value
        if eq:
            kw[key] = v
        else:
            pos.append(v)
    return pos, kw


def _refuse(node, why):
    raise CtnetTorchError(f"layer {node.index} '{node.text}': {why}")


def _build(node):
    m = re.match(r"^(\w+)(?:\((.*)\))?$", node.text)
    if not m:
        _refuse(node, "not a layer description this script reads")
    name, pos, kw = m.group(1), *_args(m.group(2) or "")
    kids = [_build(c) for c in node.children]

    def no_children(positional=0):
        if kids:
            _refuse(node, "a plain layer with nested layers")
        if len(pos) != positional:
            _refuse(node, f"{len(pos)} positional arguments, expected {positional}")

    try:
        if name == "Conv2d":
            no_children(2)
            return nn.Conv2d(pos[0], pos[1], kernel_size=kw.pop("kernel_size"), stride=kw.pop("stride", 1),
                             padding=kw.pop("padding", 0), bias=kw.pop("bias", True), **kw)
        if name == "Linear":
            no_children()
            return nn.Linear(kw.pop("in_features"), kw.pop("out_features"), bias=kw.pop("bias", True), **kw)
        if name in ("BatchNorm2d", "BatchNorm1d"):
            no_children(1)
            # ctnet: eps 1e-5, momentum 0.1, affine, running statistics, as PyTorch's defaults.
            return getattr(nn, name)(pos[0], **kw)
        if name in ("MaxPool2d", "AvgPool2d"):
            no_children()
            k = kw.pop("kernel_size")
            return getattr(nn, name)(k, stride=kw.pop("stride", k), **kw)
        if name == "GlobalAvgPool" and not pos and not kw:
            no_children()
            return nn.AdaptiveAvgPool2d(1)
        if name in ("Dropout", "Dropout2d"):
            no_children()
            return getattr(nn, name)(p=kw.pop("p"), **kw)
        if name in ("ReLU", "Identity", "Flatten") and not pos and not kw:
            no_children()
            return getattr(nn, name)()
        if name in ("Softmax", "LogSoftmax") and not pos and kw == {"dim": 1}:
            no_children()
            return getattr(nn, name)(dim=1)
        if name == "OneHot" and len(pos) == 1 and not kw:
            no_children(1)
            return OneHot(pos[0])
        if name == "Embedding" and len(pos) == 2 and not kw:
            no_children(2)
            return Embedding(pos[0], pos[1])
        if name == "Concat" and pos in (["features"], ["channels"]) and not kw:
            no_children(1)
            return Concat()
        if name == "Select" and len(pos) == 1 and not kw:
            no_children(1)
            return Select(pos[0])
        m2 = re.match(r"^(\d+) (layers|branches)$", m.group(2) or "")
        if name in ("Sequential", "PerInput", "Parallel") and m2 and int(m2.group(1)) == len(kids):
            return {"Sequential": nn.Sequential, "PerInput": PerInput, "Parallel": Parallel}[name](
                *([kids] if name != "Sequential" else kids))
        if name == "Residual" and m.group(2) is None and len(kids) == 1:
            return Residual(kids[0])
    except (KeyError, IndexError, TypeError) as e:
        _refuse(node, f"unexpected arguments ({e})")
    _refuse(node, "not a layer ctnet_torch can rebuild in PyTorch (a custom layer?); nothing was built")


def _shape_text(y):
    if isinstance(y, tuple):
        return "(" + ", ".join(_shape_text(c) for c in y) + ")"
    return "x".join(str(d) for d in y.shape[1:])


def _input_shapes(text):
    parts = text[1:-1].split(", ") if text.startswith("(") else [text]
    return [[int(d) for d in p.split("x")] for p in parts]


def from_architecture(text):
    """The PyTorch module for a ctnet architecture text (a checkpoint's "architecture" metadata), with
    PyTorch's default initialisation; every layer's output shape is checked against the text."""
    input_text, top = _parse_architecture(text)
    net = Network(*[_build(n) for n in top])
    _check_shapes(net, top, _input_shapes(input_text))
    return net


def _check_shapes(net, top, input_shapes):
    """A dry forward in eval mode on zeros (valid indices for OneHot and Embedding too)."""
    problems, hooks = [], []

    def attach(module, node):
        def hook(_m, _inp, out):
            if _shape_text(out) != node.shape:
                problems.append(f"layer {node.index} '{node.text}' gives {_shape_text(out)} in PyTorch, "
                                f"{node.shape} in ctnet")
        hooks.append(module.register_forward_hook(hook))
        for child, cnode in zip(module.children(), node.children):
            attach(child, cnode)

    for module, node in zip(net.children(), top):
        attach(module, node)
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            net(*[torch.zeros([2] + s, dtype=next(net.parameters(), torch.zeros(1)).dtype) for s in input_shapes])
    except RuntimeError as e:
        raise CtnetTorchError(f"the rebuilt module does not run on the architecture's input ({e})") from None
    finally:
        for h in hooks:
            h.remove()
        net.train(was_training)
    if problems:
        raise CtnetTorchError("the rebuilt module does not match the architecture: " + "; ".join(problems))


def to_torch(path):
    """The checkpoint's network as a PyTorch module in eval mode, its tensors loaded strictly."""
    tensors, meta = read_safetensors(path)
    if meta.get("format") != "ctnet" or "architecture" not in meta:
        raise CtnetTorchError(f"{path}: not a ctnet checkpoint (no format=ctnet and architecture metadata)")
    try:
        input_text, top = _parse_architecture(meta["architecture"])
        net = Network(*[_build(n) for n in top])
    except CtnetTorchError as e:
        raise CtnetTorchError(f"{path}: {e}") from None
    model = {k: v for k, v in tensors.items() if k[:1].isdigit()}  # not optimizer.*, train.*
    floats = {v.dtype for v in model.values()}
    if floats == {torch.float64}:
        net = net.double()
    step = int(meta.get("step", "0") or 0)
    for name, buf in net.state_dict().items():
        if name.endswith("num_batches_tracked"):
            model[name] = torch.tensor(step, dtype=buf.dtype)
    try:
        net.load_state_dict(model, strict=True)
    except RuntimeError as e:
        raise CtnetTorchError(f"{path}: the tensors do not fit the architecture: {' '.join(str(e).split())}") from None
    try:
        _check_shapes(net, top, _input_shapes(input_text))
    except CtnetTorchError as e:
        raise CtnetTorchError(f"{path}: {e}") from None
    return net.eval()


# --- command line --------------------------------------------------------------------------------------

def _main(argv):
    p = argparse.ArgumentParser(prog="ctnet_torch.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("show", help="print the PyTorch module a ctnet checkpoint becomes")
    s.add_argument("checkpoint")
    s = sub.add_parser("to-torch", help="torch.save the state_dict of the module a ctnet checkpoint becomes")
    s.add_argument("checkpoint")
    s.add_argument("out")
    s = sub.add_parser("from-torch", help="write a torch.save'd state_dict (or module) as safetensors for ctnet")
    s.add_argument("state_dict")
    s.add_argument("out")
    s.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE", help="metadata to add")
    a = p.parse_args(argv)
    try:
        if a.command == "show":
            print(to_torch(a.checkpoint))
        elif a.command == "to-torch":
            torch.save(to_torch(a.checkpoint).state_dict(), a.out)
        else:
            meta = {}
            for kv in a.meta:
                key, eq, value = kv.partition("=")
                if not eq or not key:
                    raise CtnetTorchError(f"--meta '{kv}': expected KEY=VALUE")
                meta[key] = value
            save_state_dict(torch.load(a.state_dict, map_location="cpu"), a.out, meta)
    except (CtnetTorchError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
