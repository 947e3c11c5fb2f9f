"""Score each teacher and weighted teacher mixes on FER+ valid and lfw_expressions valid (for --teachers)."""

import argparse
import csv
import itertools
import sys
from pathlib import Path

import numpy as np

from data import CLASSES, load_teacher_probs
from train import LFW_RARE, accuracy

PROJECT = Path(__file__).resolve().parent.parent


def valid_rows(labels_csv, column, value):
    """(paths, labels) of a dataset's labelled valid rows."""
    paths, labels = [], []
    with open(labels_csv, newline="") as handle:
        for row in csv.DictReader(handle):
            if row[column] == value and int(row["label_idx"]) >= 0:
                paths.append(row["path"])
                labels.append(int(row["label_idx"]))
    return paths, np.array(labels)


def figures(probs, fer_y, lfw_probs, lfw_y):
    """FER+ valid acc and mean recall, LFW valid acc and rare-class recall, and their mean."""
    acc, mcr = accuracy(probs, fer_y)
    lacc, _ = accuracy(lfw_probs, lfw_y)
    pred = lfw_probs.argmax(1)
    rare = float(np.mean([(pred[lfw_y == c] == c).mean() for c in LFW_RARE]))
    return acc, mcr, lacc, rare, float(np.mean([acc, mcr, lacc, rare]))


def main(argv=None):
    """Print a table of teachers and mixes, best mean first."""
    p = argparse.ArgumentParser(description="Score teachers and their weighted mixes on the valid splits.")
    p.add_argument("--ferplus", default=str(PROJECT.parent / "shared/datasets/ferplus"))
    p.add_argument("--lfw", default=str(PROJECT.parent / "shared/datasets/lfw_expressions"))
    p.add_argument("--teacher-dir", default=str(PROJECT / "training/.cache/teachers"))
    p.add_argument("--teachers", default="face-api,human,mien", help="comma-separated teacher names")
    p.add_argument("--step", type=float, default=0.1, help="weight grid step")
    args = p.parse_args(argv)
    names = args.teachers.split(",")
    fer_paths, fer_y = valid_rows(Path(args.ferplus) / "labels.csv", "usage", "PublicTest")
    lfw_paths, lfw_y = valid_rows(Path(args.lfw) / "labels.csv", "split", "valid")
    fer = {n: load_teacher_probs(Path(args.teacher_dir) / f"{n}_ferplus.csv", fer_paths) for n in names}
    lfw = {n: load_teacher_probs(Path(args.teacher_dir) / f"{n}_lfw.csv", lfw_paths) for n in names}
    steps = int(round(1 / args.step))
    rows = []
    for combo in itertools.product(range(steps + 1), repeat=len(names)):
        if sum(combo) != steps:
            continue
        w = [c / steps for c in combo]
        mix = sum(wi * fer[n] for wi, n in zip(w, names))
        lmix = sum(wi * lfw[n] for wi, n in zip(w, names))
        rows.append((",".join(f"{n}:{wi:.1f}" for n, wi in zip(w and names, w)), *figures(mix, fer_y, lmix, lfw_y)))
    rows.sort(key=lambda r: -r[-1])
    print(f"{'teachers':40} {'FER+ acc':>8} {'mcr':>6} {'LFW acc':>8} {'rare':>6} {'mean':>6}   ({', '.join(CLASSES)})")
    for name, *vals in rows[:15] + [r for r in rows[15:] if r[0].count("1.0") == 1]:
        print(f"{name:40} " + " ".join(f"{v * 100:7.2f}" for v in vals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
