"""Export trained checkpoints (MienNet or DenseFaceNet; several as one ensemble, optionally with the mirror view)
as a TensorFlow.js graph model, with parity fixtures."""

import argparse
import base64
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from data import CLASSES, SIZE, level_eyes, load_eye_rolls, load_ferplus
from dense_net import DenseFaceNet, FirstConv
from train import build_net

PROJECT = Path(__file__).resolve().parent.parent


def b64(text):
    """Base64 of an ASCII string, as GraphDef JSON stores string attributes."""
    return base64.b64encode(text.encode()).decode()


def fold_bn(conv_weight, bn):
    """Fold BatchNorm into the preceding bias-free conv: returns (weight, bias) as numpy."""
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    weight = conv_weight.detach() * scale.view(-1, 1, 1, 1)
    bias = bn.bias.detach() - bn.running_mean * scale
    return weight.numpy(), bias.numpy()


class GraphBuilder:
    """Collects GraphDef nodes and weights in tfjs's model.json layout."""

    def __init__(self):
        self.nodes, self.weights = [], []
        self.scope = ""  # prefix of the names made while one ensemble member is built

    def const(self, name, array, dtype=np.float32):
        """A weight node (float32, or int32 for shapes and axes) stored in the weights file."""
        name = self.scope + name
        array = np.ascontiguousarray(array, dtype=dtype)
        tf_type = "DT_INT32" if dtype == np.int32 else "DT_FLOAT"
        self.weights.append((name, array))
        self.nodes.append(
            {
                "name": name,
                "op": "Const",
                "attr": {
                    "value": {"tensor": {"dtype": tf_type, "tensorShape": {"dim": [{"size": str(d)} for d in array.shape]}}},
                    "dtype": {"type": tf_type},
                },
            }
        )
        return name

    def placeholder(self, name, shape):
        self.nodes.append(
            {
                "name": name,
                "op": "Placeholder",
                "attr": {"dtype": {"type": "DT_FLOAT"}, "shape": {"shape": {"dim": [{"size": str(d)} for d in shape]}}},
            }
        )
        return name

    def op(self, name, op, inputs, attr=None):
        name = self.scope + name
        self.nodes.append({"name": name, "op": op, "input": list(inputs), "attr": attr or {}})
        return name

    def conv(self, name, x, weight, bias, stride, relu, depthwise):
        """A fused conv (+bias, +relu) with TF SAME padding, NHWC."""
        if depthwise:  # torch [C,1,kh,kw] -> tf [kh,kw,C,1]
            kernel = weight.transpose(2, 3, 0, 1)
        else:  # torch [O,I,kh,kw] -> tf [kh,kw,I,O]
            kernel = weight.transpose(2, 3, 1, 0)
        w = self.const(f"{name}/weights", kernel)
        b = self.const(f"{name}/bias", bias)
        ops = ["BiasAdd", "Relu"] if relu else ["BiasAdd"]
        attr = {
            "strides": {"list": {"i": ["1", str(stride), str(stride), "1"]}},
            "padding": {"s": b64("SAME")},
            "data_format": {"s": b64("NHWC")},
            "dilations": {"list": {"i": ["1", "1", "1", "1"]}},
            "fused_ops": {"list": {"s": [b64(o) for o in ops]}},
            "num_args": {"i": "1"},
            "T": {"type": "DT_FLOAT"},
        }
        return self.op(name, "FusedDepthwiseConv2dNative" if depthwise else "_FusedConv2D", [x, w, b], attr)


FLOAT = {"T": {"type": "DT_FLOAT"}}


def build_graph(models, logit_bias, size=SIZE, flip=False):
    """Translate trained networks (eval mode) into graph nodes; returns builder and the first one's feature
    node names. Several networks answer as the mean of their probabilities; with flip each also answers for
    the mirror image and the two are averaged (test-time augmentation). One network without flip is the plain
    graph: nodes named as they always were."""
    g = GraphBuilder()
    x = g.placeholder("input", [-1, size, size, 1])
    if flip:  # the batch becomes [faces..., mirrored faces...]
        mirror = g.op("mirror", "ReverseV2", [x, g.const("mirror/axis", [2], np.int32)], {**FLOAT, "Tidx": {"type": "DT_INT32"}})
        x = g.op("views", "ConcatV2", [x, mirror, g.const("views/axis", 0, np.int32)], {**FLOAT, "N": {"i": "2"}, "Tidx": {"type": "DT_INT32"}})
    plain = len(models) == 1 and not flip
    outputs, features = [], None
    for i, model in enumerate(models):
        g.scope = f"member{i}/" if i else ""
        body = dense_body if isinstance(model, DenseFaceNet) else mien_body
        y, maps = body(g, model, x)
        features = features or maps
        outputs.append(add_head(g, model, y, logit_bias, "probs" if plain else "member_probs"))
    g.scope = ""
    if plain:
        return g, features
    total = outputs[0] if len(outputs) == 1 else g.op("ensemble/sum", "AddN", outputs, {**FLOAT, "N": {"i": str(len(outputs))}})
    if flip:
        pairs = g.op("views/pairs", "Reshape", [total, g.const("views/shape", [2, -1, len(CLASSES)], np.int32)], {**FLOAT, "Tshape": {"type": "DT_INT32"}})
        total = g.op("views/sum", "Sum", [pairs, g.const("views/sum_axis", [0], np.int32)], {**FLOAT, "keep_dims": {"b": False}, "Tidx": {"type": "DT_INT32"}})
    scale = g.const("ensemble/scale", np.full(len(CLASSES), 1 / (len(models) * (2 if flip else 1))))
    g.op("probs", "Mul", [total, scale], FLOAT)
    return g, features


def dense_body(g, model, x):
    """DenseFaceNet's graph: grey minus face-api's mean RGB (broadcast to 3 channels), then the dense blocks."""
    mean = g.const("input/mean_rgb", model.mean.view(-1).numpy())
    x = g.op("input/rgb", "Sub", [x, mean], {"T": {"type": "DT_FLOAT"}})
    features = []
    for i, block in enumerate(model.blocks):
        outs = []
        for j, conv in enumerate(block.convs):
            name = f"dense{i}/conv{j}"
            inp = x if j == 0 else (outs[0] if j == 1 else add_relu(g, f"{name}/in", outs))
            if isinstance(conv, FirstConv):
                w, b = conv.conv.weight.detach().numpy(), conv.conv.bias.detach().numpy()
                out = g.conv(name, inp, w, b, conv.stride, j == 0, False)
            else:
                dw = conv.dw.weight.detach().numpy()
                out = g.conv(f"{name}/dw", inp, dw, np.zeros(dw.shape[0], np.float32), conv.stride, False, True)
                out = g.conv(name, out, conv.pw.weight.detach().numpy(), conv.pw.bias.detach().numpy(), 1, j == 0, False)
            outs.append(out)
        x = add_relu(g, f"dense{i}/out", outs)
        features.append(x)
    return x, features


def add_relu(g, name, inputs):
    """ReLU of the sum of two or more nodes (a chain of AddV2)."""
    total = inputs[0]
    for k, other in enumerate(inputs[1:]):
        total = g.op(f"{name}/add{k}", "AddV2", [total, other], {"T": {"type": "DT_FLOAT"}})
    return g.op(f"{name}/relu", "Relu", [total], {"T": {"type": "DT_FLOAT"}})


def mien_body(g, model, x):
    """MienNet's graph (BatchNorm folded into the convolutions)."""
    w, b = fold_bn(model.stem.weight, model.stem_bn)
    x = g.conv("stem", x, w, b, model.stem_stride, True, False)
    features = [x]
    for i, block in enumerate(model.blocks):
        inp = x
        w, b = fold_bn(block.dw.weight, block.dw_bn)
        x = g.conv(f"block{i}/dw", x, w, b, block.stride, True, True)
        w, b = fold_bn(block.pw.weight, block.pw_bn)
        x = g.conv(f"block{i}/pw", x, w, b, 1, not block.residual, False)
        if block.residual:
            x = g.op(f"block{i}/add", "AddV2", [x, inp], {"T": {"type": "DT_FLOAT"}})
            x = g.op(f"block{i}/relu", "Relu", [x], {"T": {"type": "DT_FLOAT"}})
        features.append(x)
    return x, features


def add_head(g, model, x, logit_bias, output="probs"):
    """Global average pool, the linear classifier (with the class-balance bias) and softmax; returns the
    softmax node's name."""
    axes = g.const("pool/axes", [1, 2], np.int32)
    x = g.op("pool", "Mean", [x, axes], {"keep_dims": {"b": False}, "T": {"type": "DT_FLOAT"}})
    fw = g.const("logits/weights", model.fc.weight.detach().numpy().T)
    fb = g.const("logits/bias", model.fc.bias.detach().numpy() + logit_bias)
    x = g.op(
        "logits",
        "_FusedMatMul",
        [x, fw, fb],
        {
            "transpose_a": {"b": False},
            "transpose_b": {"b": False},
            "fused_ops": {"list": {"s": [b64("BiasAdd")]}},
            "num_args": {"i": "1"},
            "T": {"type": "DT_FLOAT"},
        },
    )
    return g.op(output, "Softmax", [x], {"T": {"type": "DT_FLOAT"}})


def same_pad(x, kernel, stride):
    """TF SAME padding for a square kernel on NCHW input."""
    size = x.shape[2]
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return F.pad(x, (total // 2, total - total // 2, total // 2, total - total // 2))


@torch.no_grad()
def run_graph(nodes, weights, images):
    """Run the exported graph with PyTorch ops: an independent check of the graph and its weights."""
    values = {}
    for node in nodes:
        op, name, ins = node["op"], node["name"], node.get("input", [])
        if op == "Placeholder":
            values[name] = torch.from_numpy(images).float().div(255).unsqueeze(1)
        elif op == "Const":
            values[name] = torch.from_numpy(np.asarray(weights[name]))
        elif op in ("_FusedConv2D", "FusedDepthwiseConv2dNative"):
            x, w, b = (values[i] for i in ins)
            stride = int(node["attr"]["strides"]["list"]["i"][1])
            if op == "_FusedConv2D":
                kernel, groups = w.permute(3, 2, 0, 1), 1
            else:
                kernel, groups = w.permute(2, 3, 0, 1), x.shape[1]
            y = F.conv2d(same_pad(x, kernel.shape[2], stride), kernel, b, stride, groups=groups)
            relu = b64("Relu") in node["attr"]["fused_ops"]["list"]["s"]
            values[name] = torch.relu(y) if relu else y
        elif op == "AddV2":
            values[name] = values[ins[0]] + values[ins[1]]
        elif op == "Sub":
            values[name] = values[ins[0]] - values[ins[1]].view(1, -1, 1, 1)
        elif op == "Relu":
            values[name] = torch.relu(values[ins[0]])
        elif op == "Mean":  # the global pool: NHWC axes 1, 2 are NCHW's 2, 3
            values[name] = values[ins[0]].mean(dim=(2, 3))
        elif op == "Sum":
            values[name] = values[ins[0]].sum(dim=tuple(values[ins[1]].tolist()))
        elif op == "ReverseV2":  # the mirror image: NHWC axis 2 (width) is NCHW's 3
            values[name] = values[ins[0]].flip(3)
        elif op == "ConcatV2":
            values[name] = torch.cat([values[i] for i in ins[:-1]], dim=int(values[ins[-1]]))
        elif op == "Reshape":
            values[name] = values[ins[0]].reshape(values[ins[1]].tolist())
        elif op == "AddN":
            values[name] = sum(values[i] for i in ins)
        elif op == "Mul":
            values[name] = values[ins[0]] * values[ins[1]]
        elif op == "_FusedMatMul":
            values[name] = values[ins[0]] @ values[ins[1]] + values[ins[2]]
        elif op == "Softmax":
            values[name] = F.softmax(values[ins[0]], dim=1)
        else:
            raise ValueError(f"run_graph: unsupported op {op}")
    return values[nodes[-1]["name"]]


def write_model(g, out_dir, metadata, dtype):
    """Write model.json and one weights shard; float16 stores weights as half floats."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest, chunks = [], []
    for name, array in g.weights:
        entry = {"name": name, "shape": list(array.shape), "dtype": "int32" if array.dtype == np.int32 else "float32"}
        if array.dtype == np.float32 and dtype == "float16":
            entry["quantization"] = {"dtype": "float16", "original_dtype": "float32"}
            chunks.append(array.astype(np.float16).tobytes())
        else:
            chunks.append(array.tobytes())
        manifest.append(entry)
    shard = "weights.bin"
    (out_dir / shard).write_bytes(b"".join(chunks))
    model_json = {
        "format": "graph-model",
        "generatedBy": "mien training/export_tfjs.py",
        "convertedBy": "mien training/export_tfjs.py",
        "modelTopology": {"node": g.nodes, "library": {}, "versions": {"producer": 1}},
        "weightsManifest": [{"paths": [shard], "weights": manifest}],
        "userDefinedMetadata": metadata,
    }
    (out_dir / "model.json").write_text(json.dumps(model_json, indent=1) + "\n")


@torch.no_grad()
def logits_of(model, images, batch=512):
    """Logits for uint8 [N,size,size] images."""
    out = []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i : i + batch]).float().div_(255).unsqueeze(1)
        out.append(model(x))
    return torch.cat(out)


def reference_probs(models, images, logit_bias, flip):
    """What the exported graph should answer, computed by the PyTorch networks: the mean of their
    probabilities, over the faces and (with flip) their mirror images."""
    views = [images, images[:, :, ::-1].copy()] if flip else [images]
    probs = [F.softmax(logits_of(m, v) + logit_bias, dim=1) for m in models for v in views]
    return torch.stack(probs).mean(0)


def metrics(logits, labels):
    """Accuracy and mean class recall."""
    pred = logits.argmax(1).numpy()
    recalls = [float((pred[labels == c] == c).mean()) for c in range(len(CLASSES)) if (labels == c).any()]
    return float((pred == labels).mean()), float(np.mean(recalls))


def class_prior(ferplus, cache):
    """Mean FER+ train vote distribution: the class prior that logit adjustment divides out."""
    _, t, _, _ = load_ferplus(ferplus, "train", True, cache)
    return torch.from_numpy(t.mean(0))


def choose_tau(table, min_recall):
    """Most accurate (tau, acc, mcr) row whose mean recall reaches min_recall, else the best acc + mcr."""
    eligible = [row for row in table if row[2] >= min_recall]
    if eligible:
        return max(eligible, key=lambda row: (row[1], row[2]))
    return max(table, key=lambda row: row[1] + row[2])


def valid_faces(model, ferplus, cache, keypoints):
    """FER+ valid as the model takes it: at its input size, eyes levelled if it was trained so."""
    size = model.config.get("size", SIZE)
    vx, _, vy, paths = load_ferplus(ferplus, "valid", False, cache, size=size)
    if model.config.get("align"):
        vx = level_eyes(vx, load_eye_rolls(Path(keypoints) / "ferplus.csv", paths))
    return vx, vy


def tune_balance(model, prior, valid, min_recall):
    """Pick tau for logit adjustment (-tau*log prior) on valid: best accuracy with mean recall >= min_recall."""
    vx, vy = valid
    logits = logits_of(model, vx)
    table = []
    for tau in np.arange(0, 1.01, 0.05):
        acc, mcr = metrics(logits - tau * prior.log(), vy)
        print(f"  tau {tau:.2f}: valid acc {acc:.4f} mcr {mcr:.4f}", flush=True)
        table.append((round(float(tau), 2), acc, mcr))
    best = choose_tau(table, min_recall)
    print(f"chosen tau {best[0]:.2f} (most accurate with mean recall >= {min_recall}): valid acc {best[1]:.4f} mcr {best[2]:.4f}", flush=True)
    return best


def fixture_inputs(count=6, seed=1234, size=SIZE):
    """Synthetic size x size uint8 inputs (noise, gradients, blobs): no dataset images leave the project."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    images = [
        rng.integers(0, 256, (size, size)),
        255 * xx,
        255 * (0.5 + 0.5 * np.sin(6 * xx + 4 * yy)),
        255 * np.exp(-((xx - 0.5) ** 2 + (yy - 0.45) ** 2) / 0.08),
    ]
    while len(images) < count:
        coarse = rng.random((6, 6))
        images.append(255 * np.kron(coarse, np.ones((size // 6 + 1, size // 6 + 1)))[:size, :size])
    return np.clip(np.stack(images[:count]), 0, 255).astype(np.uint8)


def main(argv=None):
    """Load a checkpoint, optionally tune class balance on valid, write model.json + weights + fixtures."""
    p = argparse.ArgumentParser(description="Export a trained checkpoint (MienNet or DenseFaceNet) to a tfjs graph model.")
    p.add_argument("checkpoints", nargs="+", help="best.pt written by train.py; several (same input size) answer as one ensemble")
    p.add_argument("--flip", action="store_true", help="also classify each face's mirror image and average the two (test-time augmentation)")
    p.add_argument("--out", default=str(PROJECT / "models/mien-fer"), help="output folder")
    p.add_argument("--dtype", choices=["float32", "float16"], default="float16", help="stored weight precision")
    p.add_argument("--balance", default="auto", help="'auto' (tune tau on FER+ valid), 'none', or a tau value such as 0.1")
    p.add_argument("--min-recall", type=float, default=0.75, help="with --balance auto: mean class recall the chosen tau must reach")
    p.add_argument("--ferplus", default=str(PROJECT.parent / "shared/datasets/ferplus"))
    p.add_argument("--cache", default=str(PROJECT / "training/.cache"))
    p.add_argument("--version", default="1.0.0")
    p.add_argument("--name", default="mien-fer", help="the model's name (mien-fer, mien-fer-large)")
    p.add_argument("--keypoints", default=str(PROJECT / "training/.cache/keypoints"), help="deno task keypoints folder (aligned models)")
    p.add_argument(
        "--trained-on",
        default="FER+ (FER2013 images, crowd votes) and lfw_expressions (LFW news photos, one label each), "
        "research-use terms; soft labels from face-api.js and Human (MIT) and mien-fer 1.1.0; see MODEL_CARD.md",
        help="the training data and its terms, as the model's metadata states them",
    )
    p.add_argument("--fixtures", default=str(PROJECT / "tests/fixtures/parity.json"), help="parity fixture file")
    p.add_argument(
        "--extra-margin",
        type=float,
        default=0.0,
        help="crop margin per side this model wants beyond the detector's (a fraction of the box; measured "
        "with deno task eval --faces detect --margin)",
    )
    args = p.parse_args(argv)

    ckpts = [torch.load(path, map_location="cpu", weights_only=False) for path in args.checkpoints]
    models = []
    for ckpt in ckpts:
        net = build_net(ckpt["config"])
        net.load_state_dict(ckpt["model"])
        net.config = ckpt["config"]
        models.append(net.eval())
    model, ckpt, config = models[0], ckpts[0], ckpts[0]["config"]
    size = config.get("size", SIZE)
    if any(m.config.get("size", SIZE) != size or bool(m.config.get("align")) != bool(config.get("align")) for m in models):
        raise ValueError("every checkpoint of an ensemble must take the same input size and alignment")
    if len(models) > 1 and args.balance == "auto":
        raise ValueError("--balance auto tunes one network; give an ensemble --balance none or a tau")

    balance = {"tau": 0.0}
    logit_bias = np.zeros(len(CLASSES), dtype=np.float32)
    if args.balance == "auto":
        prior = class_prior(args.ferplus, args.cache)
        valid = valid_faces(model, args.ferplus, args.cache, args.keypoints)
        tau, acc, mcr = tune_balance(model, prior, valid, args.min_recall)
        balance = {"tau": tau, "valid_accuracy": acc, "valid_mean_recall": mcr, "prior": prior.tolist()}
        logit_bias = (-tau * prior.log()).numpy()
    elif args.balance != "none":
        try:
            tau = float(args.balance)
        except ValueError:
            raise SystemExit(f"error: --balance takes 'auto', 'none' or a number, not {args.balance!r}") from None
        prior = class_prior(args.ferplus, args.cache)
        balance = {"tau": tau, "prior": prior.tolist()}
        logit_bias = (-tau * prior.log()).numpy()

    g, features = build_graph(models, logit_bias, size, args.flip)
    params = sum(p.numel() for m in models for p in m.parameters())
    metadata = {
        "name": args.name,
        "version": args.version,
        "labels": CLASSES,
        "inputSize": size,
        "align": bool(config.get("align")),
        "extraMargin": args.extra_margin,
        "inputChannels": 1,
        "input": "input",
        "output": "probs",
        "logits": "logits",
        "features": features,
        "preprocessing": f"grayscale (BT.601 luma), {'turned so the eyes are level, ' if config.get('align') else ''}"
        f"resized to {size}x{size}, scaled to [0,1]",
        "parameters": params,
        "architecture": config,
        "ensemble": {"members": [m.config for m in models], "flip": args.flip},
        "balance": balance,
        "trainedOn": args.trained_on,
        "valid": ckpt.get("valid") if len(models) == 1 else [c.get("valid") for c in ckpts],
    }
    out = Path(args.out)
    write_model(g, out, metadata, args.dtype)

    # Fixtures: PyTorch run over the graph exactly as stored (weights rounded to the stored dtype).
    inputs = fixture_inputs(size=size)
    stored = {n: (a.astype(np.float16).astype(np.float32) if a.dtype == np.float32 and args.dtype == "float16" else a) for n, a in g.weights}
    probs = run_graph(g.nodes, stored, inputs).numpy()
    exact = run_graph(g.nodes, dict(g.weights), inputs)
    original = reference_probs(models, inputs, torch.from_numpy(logit_bias), args.flip)
    print(f"graph vs PyTorch model: max abs diff {float((exact - original).abs().max()):.2e} (float32), "
          f"{float((torch.from_numpy(probs) - original).abs().max()):.2e} ({args.dtype})")
    fixtures = {
        "model": str(out.relative_to(PROJECT)) if out.is_relative_to(PROJECT) else str(out),
        "dtype": args.dtype,
        "inputs": inputs.reshape(len(inputs), -1).tolist(),
        "probs": probs.tolist(),
    }
    Path(args.fixtures).parent.mkdir(parents=True, exist_ok=True)
    Path(args.fixtures).write_text(json.dumps(fixtures) + "\n")
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"wrote {out} ({size} bytes, {params} parameters, {args.dtype}) and {args.fixtures}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (FileNotFoundError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
