"""Datasets for Mien training: FER+ (votes as soft targets) and labelled image folders."""

import csv
import hashlib
import math
import os
from pathlib import Path

import numpy as np
from PIL import Image

# RAF-DB class order, used everywhere in Mien.
CLASSES = ["surprise", "fear", "disgust", "happiness", "sadness", "anger", "neutral"]
ALIASES = {
    "happy": "happiness",
    "angry": "anger",
    "sad": "sadness",
    "surprised": "surprise",
    "fearful": "fear",
    "disgusted": "disgust",
}
# FER+ vote columns mapped onto CLASSES (contempt, unknown and NF are not classes of ours).
VOTE_COLUMNS = [
    "votes_surprise",
    "votes_fear",
    "votes_disgust",
    "votes_happiness",
    "votes_sadness",
    "votes_anger",
    "votes_neutral",
]
SPLITS = {"train": "Training", "valid": "PublicTest", "test": "PrivateTest"}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}
SIZE = 48


def class_index(folder_name):
    """Map a class folder name (ours or an alias) to its index, or None if unknown."""
    name = ALIASES.get(folder_name.lower(), folder_name.lower())
    return CLASSES.index(name) if name in CLASSES else None


def load_gray(path, size=SIZE):
    """Read any image as a size x size uint8 grayscale array (area-resized if needed)."""
    with Image.open(path) as image:
        gray = image.convert("L")
        if gray.size != (size, size):
            gray = gray.resize((size, size), Image.BILINEAR, reducing_gap=2.0)
        return np.asarray(gray, dtype=np.uint8)


def soft_targets(votes):
    """Turn 7-class vote counts into a probability distribution (uniform if no votes)."""
    votes = np.asarray(votes, dtype=np.float32)
    total = votes.sum(axis=-1, keepdims=True)
    uniform = np.full_like(votes, 1.0 / votes.shape[-1])
    return np.where(total > 0, votes / np.maximum(total, 1e-9), uniform)


def _cache_path(cache_dir, key):
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{digest}.npz"


def load_ferplus(root, split, include_excluded=False, cache_dir=None, limit=None, size=SIZE):
    """Load a FER+ split: uint8 images [N,size,size], soft targets [N,7], labels [N] (-1 = none), paths."""
    root = Path(root)
    labels_csv = root / "labels.csv"
    if not labels_csv.is_file():
        raise FileNotFoundError(f"not a FER+ folder (no labels.csv): {root}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {sorted(SPLITS)}")
    cache = None
    if cache_dir and limit is None:
        key = f"{root.resolve()}|{split}|{include_excluded}|{os.path.getmtime(labels_csv)}" + (f"|{size}" if size != SIZE else "")
        cache = _cache_path(cache_dir, key)
        if cache.is_file():
            data = np.load(cache, allow_pickle=False)
            return data["images"], data["targets"], data["labels"], list(data["paths"])
    images, targets, labels, paths = [], [], [], []
    with open(labels_csv, newline="") as handle:
        for row in csv.DictReader(handle):
            if row["usage"] != SPLITS[split] or not row["path"]:
                continue
            label = int(row["label_idx"])
            votes = [int(row[c]) for c in VOTE_COLUMNS]
            if label < 0 and not (include_excluded and row["majority"] == "no_majority" and sum(votes) > 0):
                continue
            image_path = root / row["path"]
            if not image_path.is_file():
                continue
            images.append(load_gray(image_path, size))
            targets.append(votes)
            labels.append(label)
            paths.append(row["path"])
            if limit and len(images) >= limit:
                break
    if not images:
        raise ValueError(f"no images found for split {split!r} in {root}")
    result = (
        np.stack(images),
        soft_targets(np.array(targets)),
        np.array(labels, dtype=np.int64),
        paths,
    )
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, images=result[0], targets=result[1], labels=result[2], paths=np.array(paths))
    return result


def load_image_folder(root, limit=None, size=SIZE):
    """Load `<root>/<class>/*` images with hard one-hot targets; unknown class folders are an error."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no such folder: {root}")
    images, labels, paths = [], [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        index = class_index(folder.name)
        if index is None:
            raise ValueError(f"unknown class folder {folder.name!r}; expected one of {CLASSES} or {sorted(ALIASES)}")
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in IMAGE_EXTENSIONS:
                continue
            images.append(load_gray(path, size))
            labels.append(index)
            paths.append(str(path.relative_to(root)))
            if limit and len(images) >= limit:
                break
    if not images:
        raise ValueError(f"no images in class folders under {root}")
    labels = np.array(labels, dtype=np.int64)
    targets = np.eye(len(CLASSES), dtype=np.float32)[labels]
    return np.stack(images), targets, labels, paths


def load_lfw(root, split, cache_dir=None, limit=None, smoothing=0.1, size=SIZE):
    """Load an lfw_expressions split: uint8 images [N,size,size], smoothed one-hot targets [N,7], labels, paths."""
    root = Path(root)
    labels_csv = root / "labels.csv"
    if not labels_csv.is_file():
        raise FileNotFoundError(f"not an lfw_expressions folder (no labels.csv): {root}")
    if split not in ("train", "valid"):
        raise ValueError(f"unknown lfw_expressions split {split!r}; use train or valid")
    cache = None
    if cache_dir and limit is None:
        cache = _cache_path(cache_dir, f"lfw|{root.resolve()}|{split}|{os.path.getmtime(labels_csv)}" + (f"|{size}" if size != SIZE else ""))
    if cache and cache.is_file():
        data = np.load(cache, allow_pickle=False)
        images, labels, paths = data["images"], data["labels"], list(data["paths"])
    else:
        images, labels, paths = [], [], []
        with open(labels_csv, newline="") as handle:
            for row in csv.DictReader(handle):
                if row["split"] != split:
                    continue
                images.append(load_gray(root / row["path"], size))
                labels.append(int(row["label_idx"]))
                paths.append(row["path"])
                if limit and len(images) >= limit:
                    break
        if not images:
            raise ValueError(f"no images found for split {split!r} in {root}")
        images, labels = np.stack(images), np.array(labels, dtype=np.int64)
        if cache:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, images=images, labels=labels, paths=np.array(paths))
    targets = np.full((len(labels), len(CLASSES)), smoothing / (len(CLASSES) - 1), dtype=np.float32)
    targets[np.arange(len(labels)), labels] = 1.0 - smoothing
    return images, targets, labels, paths


def load_teacher_probs(csv_path, paths):
    """Rows of a teacher CSV (path + 7 probabilities, written by teacher_probs.ts) in the order of `paths`."""
    table = {}
    with open(csv_path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if header[1:] != CLASSES:
            raise ValueError(f"{csv_path}: columns {header[1:]} are not {CLASSES}")
        for row in reader:
            table[row[0]] = [float(v) for v in row[1:]]
    missing = [p for p in paths if p not in table]
    if missing:
        raise ValueError(f"{csv_path} has no probabilities for {len(missing)} images (first: {missing[0]}); rerun deno task teachers")
    return np.array([table[p] for p in paths], dtype=np.float32)


def load_eye_rolls(csv_path, paths):
    """Each face's roll in radians from its eyes (keypoints.ts CSV; 0 where no eyes were found), in the order of `paths`."""
    table = {}
    with open(csv_path, newline="") as handle:
        for row in csv.DictReader(handle):
            if row["right_eye_x"]:
                dx = float(row["left_eye_x"]) - float(row["right_eye_x"])
                dy = float(row["left_eye_y"]) - float(row["right_eye_y"])
                table[row["path"]] = math.atan2(dy, dx)
            else:
                table[row["path"]] = 0.0
    missing = [p for p in paths if p not in table]
    if missing:
        raise ValueError(f"{csv_path} has no row for {len(missing)} images (first: {missing[0]}); rerun deno task keypoints")
    return np.array([table[p] for p in paths], dtype=np.float32)


def level_eyes(images, rolls, batch=1024):
    """Turn each uint8 face [N,H,W] by its roll about the centre (bilinear, edges repeated): eyes level, as the product crops."""
    import torch
    import torch.nn.functional as F

    out = np.empty_like(images)
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i : i + batch]).float().unsqueeze(1)
        a = torch.from_numpy(rolls[i : i + batch])
        cos, sin = torch.cos(a), torch.sin(a)
        zero = torch.zeros_like(a)
        theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        y = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
        out[i : i + batch] = y.squeeze(1).round().clamp(0, 255).byte().numpy()
    return out
