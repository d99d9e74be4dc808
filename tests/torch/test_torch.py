#!/usr/bin/python3
"""PyTorch interchange tests, one CASE per ctest test (tests/torch/CMakeLists.txt):

  out_random      ctnet checkpoints (every example network and Zoo, random state) -> ctnet_torch.to_torch
  out_trained     checkpoints saved by the examples after a short training run -> PyTorch, on MNIST test images
  in_trained      networks trained in PyTorch (scripts/train_torch_mnist.py) -> safetensors -> ctnet and mnist_predict
  in_combinators  the adder and Zoo (two inputs, heads, residual, concat, embedding) from PyTorch into ctnet
  mismatch        state_dicts that do not fit: one error naming every mismatch, exit status 1
  refuse          what ctnet_torch.py cannot rebuild is refused with a message, not turned into a wrong module

Outputs must agree within 1e-5 (largest absolute difference). Exits 77 (ctest: skipped) when this Python has
no PyTorch or NumPy. Uses data/mnist when present, generated images otherwise."""
import argparse
import os
import re
import subprocess
import sys

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"SKIP: {sys.executable} has no {e.name} (Debian: apt-get install python3-torch python3-numpy)")
    sys.exit(77)

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(here)), "scripts"))
import ctnet_torch  # noqa: E402
import train_torch_mnist  # noqa: E402

TOLERANCE = 1e-5
N = 64
torch.set_num_threads(1)


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def run(cmd, want_rc=0):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600)
    if r.returncode != want_rc:
        raise Failure(f"{' '.join(map(str, cmd))}: exit {r.returncode}, expected {want_rc}\n"
                      f"stdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}")
    return r


class Env:
    def __init__(self, a):
        self.check, self.examples, self.work = a.check, a.examples, a.work
        os.makedirs(self.work, exist_ok=True)
        self.data = a.data if all(os.path.exists(os.path.join(a.data, f)) or
                                  os.path.exists(os.path.join(a.data, f + ".gz"))
                                  for f in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte")) else None
        if self.data is None:
            self.data = os.path.join(self.work, "generated_mnist")
            generate_mnist(self.data)
            print(f"{a.data} has no MNIST: using generated images in {self.data}")
        self.test_x, self.test_y = train_torch_mnist.load_mnist(self.data, False)

    def path(self, name):
        return os.path.join(self.work, name)


def generate_mnist(d, train=600, test=100):
    """IDX files of random blobs, labels i % 10: enough to train and compare, not to learn."""
    os.makedirs(d, exist_ok=True)
    g = torch.Generator().manual_seed(3)
    for prefix, n in (("train", train), ("t10k", test)):
        images = (torch.rand(n, 28, 28, generator=g) ** 3 * 255).to(torch.uint8)
        with open(os.path.join(d, f"{prefix}-images-idx3-ubyte"), "wb") as f:
            f.write(bytes([0, 0, 8, 3]) + n.to_bytes(4, "big") + (28).to_bytes(4, "big") * 2)
            f.write(images.numpy().tobytes())
        with open(os.path.join(d, f"{prefix}-labels-idx1-ubyte"), "wb") as f:
            f.write(bytes([0, 0, 8, 1]) + n.to_bytes(4, "big") + bytes(i % 10 for i in range(n)))


# --- inputs and outputs in ctnet's batch layout (each input [N x size], one after another) ---------------

def inputs_for(env, net, n=N, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = env.test_x[:n]
    if net == "zoo":
        return [torch.randn(n, 3, 9, 9, generator=g), torch.randint(0, 6, (n, 1), generator=g).float()]
    if net.startswith("mnist_adder"):
        return [images, torch.randint(0, 10, (n, 1), generator=g).float()]
    return [images]


def torch_outputs(module, inputs):
    with torch.no_grad():
        y = module(*inputs)
    parts = y if isinstance(y, tuple) else (y,)
    return torch.cat([p.reshape(-1) for p in parts]).double().numpy()


def ctnet_outputs(env, net, model_path, inputs):
    x = torch.cat([t.reshape(-1) for t in inputs]).float().numpy()
    xin, yout = env.path(f"{net}.in.f32"), env.path(f"{net}.out.f32")
    x.tofile(xin)
    run([env.check, "forward", net, model_path, xin, yout, len(inputs[0])])
    return np.fromfile(yout, dtype=np.float32).astype(np.float64)


def compare(what, ctnet_y, torch_y):
    check(ctnet_y.shape == torch_y.shape, f"{what}: ctnet gave {ctnet_y.shape} values, PyTorch {torch_y.shape}")
    worst = float(np.max(np.abs(ctnet_y - torch_y)))
    print(f"{what}: {len(ctnet_y)} outputs (largest {np.abs(torch_y).max():.3g}), largest difference {worst:.2e}")
    check(worst <= TOLERANCE, f"{what}: ctnet and PyTorch differ by {worst:.3g} (> {TOLERANCE})")
    check(np.isfinite(ctnet_y).all() and np.abs(ctnet_y).max() > 0, f"{what}: degenerate outputs")


def predictions_of(stdout):
    """mnist_predict's lines 'test[i]: D (probability P) ...' as [(D, P)]."""
    return [(int(m.group(1)), float(m.group(2)))
            for m in re.finditer(r"^test\[\d+\]: (\d) \(probability ([0-9.]+)\)", stdout, re.M)]


def check_mnist_predict(env, model_path, module, n=10):
    r = run([os.path.join(env.examples, "mnist_predict"), "--model", model_path, "--test", n, "--data", env.data])
    got = predictions_of(r.stdout)
    check(len(got) == n, f"mnist_predict printed {len(got)} predictions, expected {n}:\n{r.stdout}")
    with torch.no_grad():
        logp = module(env.test_x[:n])
    for i, (digit, prob) in enumerate(got):
        best = int(logp[i].argmax())
        check(digit == best, f"test[{i}]: mnist_predict says {digit}, PyTorch {best}")
        check(abs(prob - float(logp[i, best].exp())) <= 5e-5 + TOLERANCE,
              f"test[{i}]: mnist_predict's probability {prob}, PyTorch's {float(logp[i, best].exp()):.6f}")
    print(f"mnist_predict on {model_path}: the same {n} predictions and probabilities as PyTorch")


# --- the cases -----------------------------------------------------------------------------------------

NETS = ["mnist_step1_skeleton", "mnist_step2_bn_dropout", "mnist_step3_gap", "mnist_session3", "mnist_tiny",
        "reference", "mnist_adder", "mnist_adder_mse", "zoo"]


def case_out_random(env):
    for i, net in enumerate(NETS):
        path = env.path(f"{net}.safetensors")
        run([env.check, "save", net, path, 100 + i])
        module = ctnet_torch.to_torch(path)
        check(not module.training, f"{net}: to_torch's module is not in eval mode")
        counters = [v for k, v in module.state_dict().items() if k.endswith("num_batches_tracked")]
        check(all(int(c) == 100 + i + 17 for c in counters), f"{net}: num_batches_tracked is not the step")
        inputs = inputs_for(env, net)
        compare(f"{net} (ctnet -> PyTorch)", ctnet_outputs(env, net, path, inputs), torch_outputs(module, inputs))
    # F64 tensors (a double model's checkpoint) give a double module; ctnet reads them into float as well.
    tensors, meta = ctnet_torch.read_safetensors(env.path("mnist_step3_gap.safetensors"))
    path = env.path("mnist_step3_gap_f64.safetensors")
    ctnet_torch.write_safetensors(path, {k: v.double() for k, v in tensors.items()}, meta)
    module = ctnet_torch.to_torch(path)
    check(all(p.dtype == torch.float64 for p in module.parameters()), "an F64 checkpoint gave a float module")
    inputs = inputs_for(env, "mnist_step3_gap")
    compare("mnist_step3_gap in F64 (ctnet -> PyTorch)", ctnet_outputs(env, "mnist_step3_gap", path, inputs),
            torch_outputs(module, [x.double() for x in inputs]))


def case_out_trained(env):
    quick = ["--epochs", "1", "--batch", "32", "--threads", "1", "--progress", "off", "--csv", "-",
             "--data", env.data]
    for net, limit in (("mnist_step3_gap", 512), ("mnist_step2_bn_dropout", 256), ("mnist_adder", 256)):
        path = env.path(f"{net}_trained.safetensors")
        run([os.path.join(env.examples, net), *quick, "--train-limit", limit, "--save", path])
        module = ctnet_torch.to_torch(path)
        _, meta = ctnet_torch.read_safetensors(path)
        steps = [int(v) for k, v in module.state_dict().items() if k.endswith("num_batches_tracked")]
        check(steps and all(s == int(meta["step"]) > 0 for s in steps), f"{net}: num_batches_tracked != step")
        inputs = inputs_for(env, net)
        compare(f"{net} trained by ctnet -> PyTorch", ctnet_outputs(env, net, path, inputs),
                torch_outputs(module, inputs))
        if not net.startswith("mnist_adder"):
            check_mnist_predict(env, path, module)


def case_in_trained(env):
    for net in ("mnist_step3_gap", "mnist_step2_bn_dropout"):
        path = env.path(f"{net}_torch.safetensors")
        run([sys.executable, os.path.join(os.path.dirname(ctnet_torch.__file__), "train_torch_mnist.py"),
             "--model", net, "--data", env.data, "--train-limit", 384, "--epochs", 1, "--threads", 1, "--out", path])
        module = train_torch_mnist.MODELS[net]()
        tensors, meta = ctnet_torch.read_safetensors(path)
        check(meta.get("format") == "pt", f"{path}: metadata {meta}")
        module.load_state_dict(tensors, strict=True)
        module.eval()
        steps = [int(v) for k, v in tensors.items() if k.endswith("num_batches_tracked")]
        check(steps and all(s == 6 for s in steps), f"{net}: PyTorch counted {steps} batches, expected 6")
        inputs = inputs_for(env, net)
        compare(f"{net} trained by PyTorch -> ctnet", ctnet_outputs(env, net, path, inputs),
                torch_outputs(module, inputs))
        check_mnist_predict(env, path, module)
    # The command-line route: torch.save'd state_dict -> ctnet_torch.py from-torch -> ctnet.
    pt, st = env.path("flagship.pt"), env.path("flagship_cli.safetensors")
    torch.save(module.state_dict(), pt)
    run([sys.executable, ctnet_torch.__file__, "from-torch", pt, st, "--meta", "note=cli"])
    tensors, meta = ctnet_torch.read_safetensors(st)
    check(meta == {"format": "pt", "note": "cli"}, f"from-torch metadata {meta}")
    check(all(torch.equal(tensors[k], v) for k, v in module.state_dict().items()) and
          len(tensors) == len(module.state_dict()), "from-torch did not write the state_dict as it was")


def case_in_combinators(env):
    for net in ("mnist_adder", "zoo"):
        arch = run([env.check, "architecture", net]).stdout
        torch.manual_seed(5)
        module = ctnet_torch.from_architecture(arch)
        # Train-mode steps move the running statistics (and count batches), as real training would.
        module.train()
        with torch.no_grad():
            for s in range(3):
                module(*inputs_for(env, net, n=16, seed=10 + s))
        module.eval()
        path = env.path(f"{net}_torch.safetensors")
        ctnet_torch.save_state_dict(module, path)
        inputs = inputs_for(env, net)
        compare(f"{net} from PyTorch -> ctnet", ctnet_outputs(env, net, path, inputs), torch_outputs(module, inputs))


def expect_error(cmd, regex, rc=1):
    r = run(cmd, want_rc=rc)
    lines = r.stderr.splitlines()
    check(len(lines) == 1 and lines[0].startswith("error: "), f"stderr is not one 'error: ' line: {r.stderr!r}")
    check(re.search(regex, lines[0]), f"stderr {lines[0]!r} does not match /{regex}/")
    print(f"{os.path.basename(str(cmd[0]))} -> exit {rc}: {lines[0]}")


def case_mismatch(env):
    predict = os.path.join(env.examples, "mnist_predict")
    sd = train_torch_mnist.mnist_step3_gap().state_dict()
    del sd["1.bias"]
    sd["extra.weight"] = torch.zeros(3, 2)
    sd["4.weight"] = torch.zeros(16, 8, 5, 5)
    sd["10.weight"] = sd["10.weight"].half()
    path = env.path("misfit.safetensors")
    ctnet_torch.save_state_dict(sd, path)
    want = (re.escape(f"error: ctnet: '{path}' does not fit this network by name and shape (4 mismatches): ") +
            re.escape("missing tensors: 1.bias [8]; unexpected tensors: extra.weight [3, 2]; wrong shapes: "
                      "4.weight is [16, 8, 5, 5] in the file, [16, 8, 3, 3] in the network; wrong dtypes: "
                      "10.weight is F16 (ctnet reads F32 and F64)") + "$")
    expect_error([predict, "--model", path, "--test", 1, "--data", env.data], want)
    expect_error([env.check, "forward", "mnist_step3_gap", path, path, env.path("unused.f32"), 1], want)
    # A whole other network's state_dict: every tensor named, missing and unexpected.
    other = env.path("step1_for_step3.safetensors")
    ctnet_torch.save_state_dict(train_torch_mnist.mnist_step3_gap(), other)
    r = run([env.check, "forward", "mnist_step1_skeleton", other, other, env.path("unused.f32"), 1], want_rc=1)
    for name in ["0.weight", "13.weight", "15.bias", "1.running_var", "23.weight"]:
        check(name in r.stderr, f"the step1 <- flagship error does not name {name}: {r.stderr}")
    check(r.stderr.count("\n") == 1, f"more than one line: {r.stderr}")
    # ctnet's own checkpoint of one network into another: the first differing layer and every tensor.
    ckpt = env.path("step2_ckpt.safetensors")
    run([env.check, "save", "mnist_step2_bn_dropout", ckpt, 1])
    expect_error([env.check, "forward", "mnist_step1_skeleton", ckpt, ckpt, env.path("unused.f32"), 1],
                 r"was saved from a different architecture: the file has '1 BatchNorm2d\(16\) -> 16x26x26', this "
                 r"network has '1 ReLU\(\) -> 16x26x26'; by name and shape, .*unexpected tensors: 1\.weight \[16\]")


def case_refuse(env):
    path = env.path("flagship.safetensors")
    run([env.check, "save", "mnist_step3_gap", path, 1])
    tensors, meta = ctnet_torch.read_safetensors(path)

    def variant(name, arch=None, drop=None):
        m = dict(meta)
        if arch:
            m["architecture"] = arch(m["architecture"])
        t = {k: v for k, v in tensors.items() if k != drop}
        p = env.path(name)
        ctnet_torch.write_safetensors(p, t, m)
        return p

    def refused(p, regex):
        try:
            ctnet_torch.to_torch(p)
        except ctnet_torch.CtnetTorchError as e:
            check(re.search(regex, str(e)), f"to_torch({p}): {e!s} does not match /{regex}/")
            print(f"to_torch refuses {os.path.basename(p)}: {e}")
        else:
            raise Failure(f"to_torch({p}) built a module")
        expect_error([sys.executable, ctnet_torch.__file__, "show", p], regex)

    refused(variant("custom.safetensors", lambda a: a.replace("2 ReLU()", "2 Swish()")),
            r"layer 2 'Swish\(\)': not a layer ctnet_torch can rebuild in PyTorch \(a custom layer\?\)")
    refused(variant("missing.safetensors", drop="4.weight"),
            r"the tensors do not fit the architecture: .*Missing key\(s\) in state_dict: \"4\.weight\"")
    refused(variant("wrong_shape.safetensors", lambda a: a.replace("22 GlobalAvgPool() -> 16x1x1",
                                                                    "22 GlobalAvgPool() -> 16x2x2")),
            r"layer 22 'GlobalAvgPool\(\)' gives 16x1x1 in PyTorch, 16x2x2 in ctnet")
    plain = env.path("plain.safetensors")
    ctnet_torch.save_state_dict(train_torch_mnist.mnist_step3_gap(), plain)
    refused(plain, r"not a ctnet checkpoint")
    # The rebuilt module and the hand-written one are the same PyTorch module.
    check(str(ctnet_torch.to_torch(path))[len("Network"):] == str(train_torch_mnist.mnist_step3_gap())[len("Sequential"):],
          "to_torch's flagship is not the hand-written nn.Sequential")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("case", choices=[n[len("case_"):] for n in globals() if n.startswith("case_")])
    p.add_argument("--check", required=True, help="the ctnet_torch_check program")
    p.add_argument("--examples", required=True, help="the directory of the example programs")
    p.add_argument("--data", required=True, help="MNIST directory (generated images when it has none)")
    p.add_argument("--work", required=True, help="a scratch directory")
    a = p.parse_args()
    try:
        globals()["case_" + a.case](Env(a))
    except Failure as e:
        print(f"FAIL [{a.case}]: {e}")
        return 1
    print(f"PASS [{a.case}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
