"""Average the weights of checkpoints that share one starting point (a "model soup" / WiSE-FT), then
re-estimate BatchNorm statistics on augmented training faces, as the networks saw them in training."""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from augment import augment, robustness
from data import load_ferplus, load_lfw
from train import LFW_RARE, accuracy, load_net, predict, selection_score

PROJECT = Path(__file__).resolve().parent.parent


def parse_weights(text):
    """'a.pt:0.5,b.pt:0.5' -> [(path, weight)], weights normalised to sum to 1."""
    pairs = [part.rsplit(":", 1) for part in text.split(",")]
    items = [(path, float(weight)) for path, weight in pairs]
    total = sum(w for _, w in items)
    if total <= 0:
        raise argparse.ArgumentTypeError("weights must sum to more than 0")
    return [(path, w / total) for path, w in items]


def average(paths_weights):
    """A network whose floating-point tensors are the weighted mean of the checkpoints'."""
    nets = [(load_net(path, "cpu"), w) for path, w in paths_weights]
    base = nets[0][0]
    state = {}
    for key, value in base.state_dict().items():
        if value.dtype.is_floating_point:
            state[key] = sum(w * net.state_dict()[key] for net, w in nets)
        else:
            state[key] = value
    base.load_state_dict(state)
    return base


@torch.no_grad()
def recalibrate(net, images, robust, seed=0, batch=256):
    """Re-estimate BN running statistics from augmented faces (the training-time input distribution)."""
    net.train()
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over all batches
    gen = torch.Generator().manual_seed(seed)
    for i in range(0, len(images), batch):
        x = augment(torch.from_numpy(images[i : i + batch]).float().div(255).unsqueeze(1), gen)
        net(robustness(x, gen, robust) if robust > 0 else x)
    return net.eval()


def main(argv=None):
    """Average, recalibrate, print the valid figures the training selects on, and save a checkpoint."""
    p = argparse.ArgumentParser(description="Average checkpoints' weights and recalibrate BatchNorm.")
    p.add_argument("--weights", type=parse_weights, required=True, help="a.pt:0.5,b.pt:0.5 (same architecture and starting point)")
    p.add_argument("--ferplus", default=str(PROJECT.parent / "shared/datasets/ferplus"))
    p.add_argument("--lfw", default=str(PROJECT.parent / "shared/datasets/lfw_expressions"))
    p.add_argument("--robust", type=float, default=0.5, help="degradation rate of the recalibration batches (as in training)")
    p.add_argument("--every", type=int, default=8, help="use every n-th training face for recalibration")
    p.add_argument("--cache", default=str(PROJECT / "training/.cache"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", required=True, help="checkpoint to write (best.pt layout, for export_tfjs.py)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    tx, _, _, _ = load_ferplus(args.ferplus, "train", True, args.cache)
    lx, _, _, _ = load_lfw(args.lfw, "train", args.cache)
    net = recalibrate(average(args.weights), np.concatenate([tx[:: args.every], lx[:: args.every]]), args.robust)
    vx, _, vy, _ = load_ferplus(args.ferplus, "valid", False, args.cache)
    vlx, _, vly, _ = load_lfw(args.lfw, "valid", args.cache)
    acc, mcr = accuracy(predict(net, vx), vy)
    lp = predict(net, vlx)
    lacc, _ = accuracy(lp, vly)
    rare = float(np.mean([(lp.argmax(1)[vly == c] == c).mean() for c in LFW_RARE]))
    valid = {"acc": acc, "mcr": mcr, "lfw": {"acc": lacc, "rare": rare}}
    valid["score"] = selection_score(valid, valid["lfw"])
    print(f"soup {args.weights}: FER+ valid {acc:.4f} mcr {mcr:.4f} | LFW valid {lacc:.4f} rare {rare:.4f} | score {valid['score']:.4f}")
    torch.save({"config": net.config, "model": net.state_dict(), "valid": valid, "soup": args.weights}, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
