#!/usr/bin/env python3
"""check_models.py DIR: the ONNX checker, in full, on every model ctnet_onnx_reference exported to DIR.

For each model of DIR/manifest.json: onnx.checker.check_model(full_check=True) (structure, operator
schemas of opset 17, and strict shape inference), then what ctnet promises beyond validity: opset 17 or
later, every graph input and output [N, ...] with N symbolic and the per-sample dims of the manifest,
shape inference reaching the same output shapes, unique node and initializer names. Exit 0 when all pass,
1 on the first failure (one line naming model and problem), 77 when python3-onnx is not installed.
"""
import json
import os
import sys

try:
    import onnx
    import onnx.checker
    import onnx.shape_inference
except ImportError:
    print("skipped: python3-onnx is not installed (Debian: apt-get install python3-onnx)")
    sys.exit(77)


def dims_of(value):
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in value.type.tensor_type.shape.dim]


def check(name, model, entry):
    problems = []
    opsets = {o.domain: o.version for o in model.opset_import}
    if opsets.get("", 0) < 17:
        problems.append(f"opset {opsets.get('', 0)}, expected 17 or later")
    for kind, values in (("inputs", model.graph.input), ("outputs", model.graph.output)):
        want = [(v["name"], ["N"] + v["dims"][1:]) for v in entry[kind]]
        got = [(v.name, dims_of(v)) for v in values]
        if got != want:
            problems.append(f"graph {kind} {got}, expected {want}")
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    got = [(v.name, dims_of(v)) for v in inferred.graph.output]
    want = [(v["name"], ["N"] + v["dims"][1:]) for v in entry["outputs"]]
    if got != want:
        problems.append(f"shape inference gives outputs {got}, expected {want}")
    for what, names in (("node", [n.name for n in model.graph.node]),
                        ("initializer", [i.name for i in model.graph.initializer])):
        if len(set(names)) != len(names):
            problems.append(f"duplicate {what} names")
    if not model.graph.initializer:
        problems.append(f"{name} has no initializers")
    return problems


def main():
    if len(sys.argv) != 2:
        print("usage: check_models.py DIR", file=sys.stderr)
        return 2
    directory = sys.argv[1]
    manifest = json.load(open(os.path.join(directory, "manifest.json")))
    failed = 0
    for entry in manifest["models"]:
        path = os.path.join(directory, entry["onnx"])
        model = onnx.load(path)
        try:
            onnx.checker.check_model(model, full_check=True)
            problems = check(entry["name"], model, entry)
        except Exception as e:  # the checker's own errors: name the model, keep one line
            problems = [f"{type(e).__name__}: {' '.join(str(e).split())}"]
        ops = sorted({n.op_type for n in model.graph.node})
        status = "ok" if not problems else "FAILED: " + "; ".join(problems)
        print(json.dumps({"model": entry["name"], "onnx": onnx.__version__, "full_check": not problems,
                          "nodes": len(model.graph.node), "operators": ops, "status": status}))
        failed += bool(problems)
    if failed:
        print(f"check_models.py: {failed} of {len(manifest['models'])} models failed the ONNX checker", file=sys.stderr)
        return 1
    print(f"check_models.py: all {len(manifest['models'])} models pass onnx.checker.check_model(full_check=True)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
