"""Load a shipped mien-fer tfjs graph model (export_tfjs.py's layout) back into a trainable MienNet."""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from model import MienNet

PROJECT = Path(__file__).resolve().parent.parent


def read_weights(model_dir):
    """Name -> float32 array of a graph model's weights (float16-quantised entries widened)."""
    model_dir = Path(model_dir)
    spec = json.loads((model_dir / "model.json").read_text())
    out = {}
    for group in spec["weightsManifest"]:
        blob = b"".join((model_dir / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            count = int(np.prod(w["shape"])) if w["shape"] else 1
            stored = w.get("quantization", {}).get("dtype", w["dtype"])
            dtype = {"float16": np.float16, "float32": np.float32, "int32": np.int32}[stored]
            size = count * np.dtype(dtype).itemsize
            out[w["name"]] = np.frombuffer(blob[offset : offset + size], dtype=dtype).astype(np.float32).reshape(w["shape"])
            offset += size
    return spec["userDefinedMetadata"], out


def _set_conv(conv, bn, kernel, bias, depthwise):
    """Copy a folded tf kernel into a torch conv; BN starts as the identity plus the folded bias."""
    weight = kernel.transpose(2, 3, 0, 1) if depthwise else kernel.transpose(3, 2, 0, 1)
    conv.weight.data.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
    bn.weight.data.fill_(1.0)
    bn.bias.data.copy_(torch.from_numpy(bias))
    bn.running_mean.zero_()
    bn.running_var.fill_(1.0 - bn.eps)


@torch.no_grad()
def calibrate_batchnorm(model, images):
    """Give every BN the statistics of its conv's output on `images`, keeping eval outputs exact.

    With mean m and variance v of a conv's output z, BN(z) = (z - m) / sqrt(v + eps) * sqrt(v + eps)
    + m + b = z + b, as before; but training-mode BN, which normalises by batch statistics, now also
    starts close to the imported function instead of far from it.
    """
    model.eval()
    stats = {}
    pairs = [(model.stem, model.stem_bn)] + [(c, b) for blk in model.blocks for c, b in ((blk.dw, blk.dw_bn), (blk.pw, blk.pw_bn))]
    hooks = []
    for conv, bn in pairs:
        def hook(_m, _i, out, bn=bn):
            stats[bn] = (out.mean(dim=(0, 2, 3)), out.var(dim=(0, 2, 3)))
        hooks.append(conv.register_forward_hook(hook))
    model(torch.from_numpy(images).float().div(255).unsqueeze(1))
    for h in hooks:
        h.remove()
    for bn, (mean, var) in stats.items():
        std = torch.sqrt(var + bn.eps)
        bn.bias.data.add_(mean)
        bn.weight.data.copy_(std)
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)


def import_model(model_dir, prior=None, calibration_images=None):
    """A MienNet with the graph model's weights; its class-balance logit bias (-tau log prior) is removed."""
    meta, w = read_weights(model_dir)
    arch = meta["architecture"]
    net = MienNet(arch["stem"], [tuple(s) for s in arch["stages"]], arch["num_classes"], stem_stride=arch.get("stem_stride", 1))
    _set_conv(net.stem, net.stem_bn, w["stem/weights"], w["stem/bias"], False)
    for i, block in enumerate(net.blocks):
        _set_conv(block.dw, block.dw_bn, w[f"block{i}/dw/weights"], w[f"block{i}/dw/bias"], True)
        _set_conv(block.pw, block.pw_bn, w[f"block{i}/pw/weights"], w[f"block{i}/pw/bias"], False)
    net.fc.weight.data.copy_(torch.from_numpy(w["logits/weights"].T.copy()))
    bias = w["logits/bias"].copy()
    prior = meta.get("balance", {}).get("prior", prior)
    tau = meta.get("balance", {}).get("tau", 0.0)
    if tau and prior is not None:
        bias += tau * np.log(np.asarray(prior, dtype=np.float32))
    net.fc.bias.data.copy_(torch.from_numpy(bias))
    if calibration_images is not None:
        calibrate_batchnorm(net, calibration_images)
    return net.eval(), meta


def main(argv=None):
    """Write a train.py checkpoint (best.pt layout) from a shipped graph model, for --init."""
    p = argparse.ArgumentParser(description="Turn a shipped mien-fer graph model into a checkpoint for train.py --init.")
    p.add_argument("--model", default=str(PROJECT / "models/mien-fer"), help="folder with model.json + weights.bin")
    p.add_argument("--ferplus", default=str(PROJECT.parent / "shared/datasets/ferplus"), help="FER+ folder (BN calibration images)")
    p.add_argument("--cache", default=str(PROJECT / "training/.cache"))
    p.add_argument("--out", required=True, help="checkpoint file to write")
    args = p.parse_args(argv)
    from data import load_ferplus

    x, t, _, _ = load_ferplus(args.ferplus, "train", True, args.cache)
    sample = x[np.random.default_rng(0).permutation(len(x))[:2048]]
    net, meta = import_model(args.model, t.mean(0), sample)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": net.config, "model": net.state_dict(), "valid": meta.get("valid")}, args.out)
    print(f"wrote {args.out} from {meta['name']} {meta['version']}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (FileNotFoundError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
