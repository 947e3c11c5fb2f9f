"""Train MienNet on FER+ (soft vote targets) or a labelled image folder; resumable, seeded."""

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from augment import augment, robustness
from data import CLASSES, SIZE, level_eyes, load_eye_rolls, load_ferplus, load_image_folder, load_lfw, load_teacher_probs
from dense_net import DenseFaceNet, load_faceapi
from model import DEFAULT_STAGES, DEFAULT_STEM, DEFAULT_STEM_STRIDE, MienNet, count_macs

PROJECT = Path(__file__).resolve().parent.parent


def parse_stages(text):
    """Parse 'channels:stride:repeats,...' into stage tuples."""
    try:
        return [tuple(int(v) for v in part.split(":")) for part in text.split(",")]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"bad --stages {text!r}: {error}") from error


def parse_teachers(text):
    """Parse 'name:weight,...' into a {name: weight} dict with weights summing to 1."""
    try:
        pairs = [part.split(":") for part in text.split(",")]
        weights = {name: float(weight) for name, weight in pairs}
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"bad --teachers {text!r}: use name:weight,... ({error})") from error
    total = sum(weights.values())
    if total <= 0 or any(w < 0 for w in weights.values()):
        raise argparse.ArgumentTypeError(f"bad --teachers {text!r}: weights must be >= 0 and not all 0")
    return {name: w / total for name, w in weights.items()}


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description="Train the Mien expression model (PyTorch, CPU).")
    p.add_argument("--ferplus", default=str(PROJECT.parent / "shared/datasets/ferplus"), help="FER+ folder (labels.csv + images)")
    p.add_argument("--lfw", help="also train on this lfw_expressions folder's train split (and select on its valid split)")
    p.add_argument("--lfw-smoothing", type=float, default=0.1, help="label smoothing of lfw_expressions' single labels")
    p.add_argument(
        "--teachers",
        type=parse_teachers,
        help="distil from precomputed teacher probabilities, weighted: e.g. face-api:0.5,human:0.2,mien:0.3 "
        "(CSV files from `deno task teachers` in --teacher-dir)",
    )
    p.add_argument("--teacher-dir", default=str(PROJECT / "training/.cache/teachers"))
    p.add_argument("--robust", type=float, default=0.0, help="rate of deployment degradations (0 = off, 1 = the full mix)")
    p.add_argument("--folder", help="train on <folder>/<class>/* instead of FER+ (hard labels)")
    p.add_argument("--valid-folder", help="validation folder for --folder (default: a 10%% holdout)")
    p.add_argument("--out", default=str(PROJECT / "training/runs/default"), help="run folder for checkpoints and logs")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1, help="peak learning rate (SGD, one-cycle)")
    p.add_argument("--wd", type=float, default=5e-4)
    p.add_argument("--ema", type=float, default=0.999, help="weight EMA decay (evaluated model)")
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--stem", type=int, default=DEFAULT_STEM)
    p.add_argument("--stem-stride", type=int, choices=[1, 2], default=DEFAULT_STEM_STRIDE)
    p.add_argument("--stages", type=parse_stages, default=DEFAULT_STAGES, help="e.g. 32:1:1,64:2:3,128:2:4,256:2:2")
    p.add_argument("--arch", choices=["mien", "dense"], default="mien", help="MienNet, or face-api.js's dense network (training/dense_net.py)")
    p.add_argument("--faceapi-init", action="store_true", help="with --arch dense: start from face-api.js's expression weights")
    p.add_argument("--size", type=int, default=SIZE, help="input size in pixels (faces are resampled to it)")
    p.add_argument("--align", help="keypoints folder (deno task keypoints): turn every face so its eyes are level, as the product does")
    p.add_argument("--rotate", type=float, default=15.0, help="random roll augmentation, +- degrees")
    p.add_argument("--no-excluded", action="store_true", help="skip FER+ no-majority images (used as soft targets by default)")
    p.add_argument("--teacher", nargs="+", help="best.pt file(s) of trained nets to distil from (ensemble mean)")
    p.add_argument("--teacher-flip", action="store_true", help="each --teacher answers for the face and its mirror image, averaged")
    p.add_argument("--init", help="start from this checkpoint's weights (same architecture) with a fresh schedule")
    p.add_argument("--kd-alpha", type=float, default=0.7, help="weight of the distillation term")
    p.add_argument("--kd-temp", type=float, default=2.0, help="distillation temperature")
    p.add_argument("--device", default="cpu", help="cpu, cuda, or auto (cuda when available)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, help="use at most N images per split (smoke runs)")
    p.add_argument("--max-batches", type=int, help="stop each epoch after N batches (smoke runs)")
    p.add_argument("--resume", action="store_true", help="continue from <out>/last.pt (same --epochs)")
    p.add_argument("--stop-after", type=int, help="stop after this epoch, to be continued later with --resume")
    p.add_argument("--cache", default=str(PROJECT / "training/.cache"), help="decoded-dataset cache folder")
    return p.parse_args(argv)


def load_data(args):
    """Return (train, valid) tuples of (images uint8 [N,48,48], soft targets [N,7], labels [N])."""
    if args.folder:
        x, t, y, _ = load_image_folder(args.folder)
        if args.valid_folder:
            vx, vt, vy, _ = load_image_folder(args.valid_folder)
        else:
            order = np.random.default_rng(args.seed).permutation(len(x))
            cut = max(1, len(x) // 10)
            vx, vt, vy = x[order[:cut]], t[order[:cut]], y[order[:cut]]
            x, t, y = x[order[cut:]], t[order[cut:]], y[order[cut:]]
        return (x, t, y, None), (vx, vt, vy)
    cache = None if args.limit else args.cache
    x, t, y, paths = load_ferplus(args.ferplus, "train", not args.no_excluded, cache, args.limit, args.size)
    vx, vt, vy, vpaths = load_ferplus(args.ferplus, "valid", False, cache, args.limit, args.size)
    x, vx = aligned(args, "ferplus", x, paths), aligned(args, "ferplus", vx, vpaths)
    soft = teacher_mix(args, "ferplus", paths)
    if args.lfw:
        lx, lt, ly, lpaths = load_lfw(args.lfw, "train", cache, args.limit, args.lfw_smoothing, args.size)
        lx = aligned(args, "lfw", lx, lpaths)
        x, t, y = np.concatenate([x, lx]), np.concatenate([t, lt]), np.concatenate([y, ly])
        if soft is not None:
            soft = np.concatenate([soft, teacher_mix(args, "lfw", lpaths)])
    return (x, t, y, soft), (vx, vt, vy)


def aligned(args, dataset, images, paths):
    """The images turned to level eyes with --align (keypoints.ts's CSV for `dataset`), else as they are."""
    if not args.align:
        return images
    return level_eyes(images, load_eye_rolls(Path(args.align) / f"{dataset}.csv", paths))


def teacher_mix(args, dataset, paths):
    """The weighted mean of the --teachers' probabilities for `paths` of `dataset`, or None."""
    if not args.teachers:
        return None
    mix = 0
    for name, weight in args.teachers.items():
        mix = mix + weight * load_teacher_probs(Path(args.teacher_dir) / f"{name}_{dataset}.csv", paths)
    return mix.astype(np.float32)


def lfw_valid(args):
    """lfw_expressions valid split (images, labels), or None without --lfw."""
    if not args.lfw:
        return None
    vx, _, vy, paths = load_lfw(args.lfw, "valid", None if args.limit else args.cache, args.limit, size=args.size)
    return aligned(args, "lfw", vx, paths), vy


# Classes whose lfw_expressions recall is tracked (the ones it has more than a dozen faces of besides
# happiness and neutral).
LFW_RARE = [CLASSES.index(c) for c in ("surprise", "sadness", "anger")]


def selection_score(fer, lfw):
    """What checkpoints are selected on: mean of FER+ valid accuracy and mean recall, and with LFW
    its valid accuracy and mean recall over surprise, sadness and anger."""
    parts = [fer["acc"], fer["mcr"]]
    if lfw:
        parts += [lfw["acc"], lfw["rare"]]
    return float(np.mean(parts))


def to_input(images):
    """uint8 [N,48,48] -> float [N,1,48,48] in [0,1], the layout the model takes."""
    return torch.from_numpy(images).float().div_(255).unsqueeze(1)


@torch.no_grad()
def predict(model, images, device="cpu", batch=512):
    """Softmax probabilities for uint8 images."""
    model.eval()
    out = [F.softmax(model(to_input(images[i : i + batch]).to(device)), dim=1).cpu() for i in range(0, len(images), batch)]
    return torch.cat(out).numpy()


def build_net(config, dropout=0.0):
    """An untrained network of a checkpoint's config (MienNet, or DenseFaceNet when config['arch'] is 'dense')."""
    if config.get("arch") == "dense":
        return DenseFaceNet(config["num_classes"], dropout, config["channels"])
    return MienNet(config["stem"], [tuple(s) for s in config["stages"]], config["num_classes"], dropout, config.get("stem_stride", 1))


def load_net(path, device):
    """A network from a best.pt/last.pt checkpoint, in eval mode."""
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    net = build_net(ckpt["config"])
    net.load_state_dict(ckpt["model"] if "opt" not in ckpt else ckpt["ema"])
    return net.to(device).eval()


def distillation_loss(logits, teacher_probs_t, temp):
    """KL(teacher || student) at temperature temp, scaled by temp^2 (Hinton et al.)."""
    log_student = F.log_softmax(logits / temp, dim=1)
    return F.kl_div(log_student, teacher_probs_t, reduction="batchmean") * temp * temp


def accuracy(probs, labels):
    """Accuracy and mean class recall over labelled rows (label >= 0)."""
    keep = labels >= 0
    pred = probs[keep].argmax(1)
    y = labels[keep]
    recalls = [float((pred[y == c] == c).mean()) for c in range(len(CLASSES)) if (y == c).any()]
    return float((pred == y).mean()), float(np.mean(recalls))


class Ema:
    """Exponential moving average of a model's parameters and buffers."""

    def __init__(self, model, decay):
        self.model = copy.deepcopy(model).eval()
        self.decay = decay

    @torch.no_grad()
    def update(self, model, step):
        d = min(self.decay, (1 + step) / (10 + step))
        for ema_v, v in zip(self.model.state_dict().values(), model.state_dict().values()):
            if ema_v.dtype.is_floating_point:
                ema_v.mul_(d).add_(v.detach(), alpha=1 - d)
            else:
                ema_v.copy_(v)


def fmt_time(seconds):
    """Seconds as h:mm:ss."""
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def main(argv=None):
    """Train, evaluate the EMA model on valid each epoch, keep the best checkpoint."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else args.device.replace("auto", "cpu"))
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.time()
    (x, t, y, soft), (vx, vt, vy) = load_data(args)
    lfw = lfw_valid(args)
    print(f"data: train {len(x)} valid {len(vx)}{f' + lfw valid {len(lfw[0])}' if lfw else ''} ({time.time() - t0:.1f}s)", flush=True)
    if soft is not None:
        acc, mcr = accuracy(soft, y)
        print(f"teacher mix {args.teachers}: train agreement acc {acc:.4f} mcr {mcr:.4f}", flush=True)

    if args.arch == "dense":
        model = DenseFaceNet(len(CLASSES), args.dropout)
        if args.faceapi_init and not args.resume:
            load_faceapi(model)
            print("initialised from face-api.js's expression network", flush=True)
    else:
        model = MienNet(args.stem, args.stages, len(CLASSES), args.dropout, args.stem_stride)
    model.config["size"] = args.size
    model.config["align"] = bool(args.align)
    model = model.to(device, memory_format=torch.channels_last)
    teachers = [load_net(path, device) for path in args.teacher or []]
    for path, teacher in zip(args.teacher or [], teachers):
        acc, mcr = accuracy(predict(teacher, vx, device), vy)
        print(f"teacher {path}: valid acc {acc:.4f} mcr {mcr:.4f}", flush=True)
    if args.init and not args.resume:
        try:
            model.load_state_dict(load_net(args.init, device).state_dict())
        except RuntimeError as e:
            raise SystemExit(f"error: --init {args.init} does not match the architecture given: {e}") from None
        print(f"initialised from {args.init}", flush=True)
    params = sum(p.numel() for p in model.parameters())
    print(f"model: {params} parameters, {count_macs(model, args.size) / 1e6:.1f}M multiply-adds", flush=True)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    opt = torch.optim.SGD(
        [{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0}],
        lr=args.lr,
        momentum=0.9,
        nesterov=True,
    )
    steps_per_epoch = len(x) // args.batch
    if args.max_batches:
        steps_per_epoch = min(steps_per_epoch, args.max_batches)
    steps_per_epoch = max(1, steps_per_epoch)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch, pct_start=0.15, div_factor=20, final_div_factor=200
    )
    ema = Ema(model, args.ema)
    gen = torch.Generator().manual_seed(args.seed)
    start_epoch, step, best = 0, 0, {"score": -1.0}

    last = out / "last.pt"
    if args.resume and last.is_file():
        ckpt = torch.load(last, map_location=device, weights_only=False)
        if ckpt["args"]["epochs"] != args.epochs:
            raise ValueError(f"{last} is a {ckpt['args']['epochs']}-epoch run; resume it with --epochs {ckpt['args']['epochs']}")
        model.load_state_dict(ckpt["model"])
        ema.model.load_state_dict(ckpt["ema"])
        opt.load_state_dict(ckpt["opt"])
        sched.load_state_dict(ckpt["sched"])
        gen.set_state(ckpt["gen"])
        start_epoch, step, best = ckpt["epoch"], ckpt["step"], ckpt["best"]
        print(f"resumed from {last} at epoch {start_epoch}", flush=True)
    elif args.resume:
        print(f"no checkpoint at {last}; starting fresh", flush=True)

    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    st = None if soft is None else torch.from_numpy(soft).clamp_min(1e-6).pow(1 / args.kd_temp)
    if st is not None:
        st = st / st.sum(1, keepdim=True)
    run_start = time.time()
    for epoch in range(start_epoch, args.epochs):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        epoch_start, total_loss, seen = time.time(), 0.0, 0
        for b in range(steps_per_epoch):
            idx = order[b * args.batch : (b + 1) * args.batch]
            inputs = augment(xt[idx].float().div_(255).unsqueeze(1), gen, rotate=args.rotate)
            if args.robust > 0:
                inputs = robustness(inputs, gen, args.robust)
            inputs = inputs.to(device)
            inputs = inputs.contiguous(memory_format=torch.channels_last)
            logits = model(inputs)
            loss = -(tt[idx].to(device) * F.log_softmax(logits, dim=1)).sum(1).mean()
            if st is not None:
                kd = -(st[idx].to(device) * F.log_softmax(logits / args.kd_temp, dim=1)).sum(1).mean() * args.kd_temp**2
                loss = (1 - args.kd_alpha) * loss + args.kd_alpha * kd
            if teachers:
                with torch.no_grad():
                    views = [inputs, inputs.flip(3)] if args.teacher_flip else [inputs]
                    soft = torch.stack([F.softmax(t(v) / args.kd_temp, dim=1) for t in teachers for v in views]).mean(0)
                kd = distillation_loss(logits, soft, args.kd_temp)
                loss = (1 - args.kd_alpha) * loss + args.kd_alpha * kd
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            ema.update(model, step)
            total_loss += loss.item() * len(idx)
            seen += len(idx)
            if (b + 1) % 100 == 0 and b + 1 < steps_per_epoch:
                rate = seen / (time.time() - epoch_start)
                print(f"  epoch {epoch + 1} batch {b + 1}/{steps_per_epoch} loss {total_loss / seen:.4f} {rate:.0f} img/s", flush=True)
        acc, mcr = accuracy(predict(ema.model, vx, device), vy)
        valid = {"acc": acc, "mcr": mcr}
        lfw_figures = None
        if lfw:
            lfw_probs = predict(ema.model, lfw[0], device)
            lacc, _ = accuracy(lfw_probs, lfw[1])
            pred = lfw_probs.argmax(1)
            rare = float(np.mean([(pred[lfw[1] == c] == c).mean() for c in LFW_RARE]))
            lfw_figures = {"acc": lacc, "rare": rare}
        score = selection_score(valid, lfw_figures)
        done = epoch + 1
        elapsed = time.time() - run_start
        eta = elapsed / (done - start_epoch) * (args.epochs - done)
        improved = score > best.get("score", best.get("acc", -1.0))
        if improved:
            best = {"score": score, "acc": acc, "mcr": mcr, "epoch": done, "lfw": lfw_figures}
            state = {k: v.cpu() for k, v in ema.model.state_dict().items()}
            torch.save({"config": model.config, "model": state, "valid": best}, out / "best.pt")
        torch.save(
            {
                "model": model.state_dict(),
                "ema": ema.model.state_dict(),
                "opt": opt.state_dict(),
                "sched": sched.state_dict(),
                "gen": gen.get_state(),
                "epoch": done,
                "step": step,
                "best": best,
                "config": model.config,
                "args": {k: v for k, v in vars(args).items()},
            },
            out / "last.tmp",
        )
        os.replace(out / "last.tmp", last)
        lfw_text = f" lfw acc {lfw_figures['acc']:.4f} rare {lfw_figures['rare']:.4f}" if lfw_figures else ""
        line = (
            f"epoch {done}/{args.epochs} loss {total_loss / max(1, seen):.4f} "
            f"valid acc {acc:.4f} mcr {mcr:.4f}"
            f"{lfw_text}"
            f" score {score:.4f}{' *' if improved else ''} "
            f"{seen / (time.time() - epoch_start):.0f} img/s elapsed {fmt_time(elapsed)} eta {fmt_time(eta)}"
        )
        print(line, flush=True)
        with open(out / "log.jsonl", "a") as log:
            log.write(json.dumps({"epoch": done, "loss": total_loss / max(1, seen), "acc": acc, "mcr": mcr, "lfw": lfw_figures, "score": score}) + "\n")
        if args.stop_after and done >= args.stop_after and done < args.epochs:
            print(f"stopped after epoch {done}; continue with --resume", flush=True)
            return 0
    print(f"best valid score {best['score']:.4f} (FER+ acc {best['acc']:.4f}, mcr {best['mcr']:.4f}, lfw {best['lfw']}) at epoch {best['epoch']}; {out / 'best.pt'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
