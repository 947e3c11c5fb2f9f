"""Training-side tests: loaders, targets, augmentation, a smoke run with resume, export parity."""

import json
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))

import export_tfjs  # noqa: E402
import import_tfjs  # noqa: E402
import train  # noqa: E402
from augment import augment, gaussian_blur, jpeg, resample, robustness, uneven_light  # noqa: E402
from data import CLASSES, VOTE_COLUMNS, class_index, level_eyes, load_eye_rolls, load_ferplus, load_image_folder, load_lfw, load_teacher_probs, soft_targets  # noqa: E402
from dense_net import FACE_API_MODEL, DenseFaceNet, load_faceapi  # noqa: E402
from model import MienNet  # noqa: E402

FERPLUS = ROOT.parent / "shared/datasets/ferplus"
HAS_FERPLUS = (FERPLUS / "labels.csv").is_file()
torch.set_num_threads(2)


def write_folder(root, classes, per_class=3, size=(60, 50), mode="RGB"):
    """Synthetic labelled images of any size and mode."""
    rng = np.random.default_rng(0)
    for name in classes:
        (Path(root) / name).mkdir(parents=True)
        for i in range(per_class):
            shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(Path(root) / name / f"{i}.png")


class DataTests(unittest.TestCase):
    def test_class_index_aliases(self):
        self.assertEqual(class_index("happy"), 3)
        self.assertEqual(class_index("Neutral"), 6)
        self.assertIsNone(class_index("contempt"))

    def test_soft_targets_normalise_votes(self):
        t = soft_targets([[0, 0, 0, 8, 0, 0, 2], [0] * 7])
        np.testing.assert_allclose(t[0], [0, 0, 0, 0.8, 0, 0, 0.2])
        np.testing.assert_allclose(t[1], [1 / 7] * 7)

    def test_image_folder_any_size_and_aliases(self):
        with tempfile.TemporaryDirectory() as d:
            write_folder(d, ["happy", "sad"], size=(70, 90))
            (Path(d) / "happy" / "notes.txt").write_text("not an image")
            x, t, y, paths = load_image_folder(d)
            self.assertEqual(x.shape, (6, 48, 48))
            self.assertEqual(x.dtype, np.uint8)
            self.assertEqual(sorted(set(y.tolist())), [3, 4])
            np.testing.assert_allclose(t.sum(1), 1)
            self.assertTrue(all(p.endswith(".png") for p in paths))

    def test_image_folder_rejects_unknown_class(self):
        with tempfile.TemporaryDirectory() as d:
            write_folder(d, ["happy", "contempt"], per_class=1, mode="L")
            with self.assertRaisesRegex(ValueError, "unknown class folder 'contempt'"):
                load_image_folder(d)

    def test_missing_folder(self):
        with self.assertRaises(FileNotFoundError):
            load_image_folder("/no/such/folder")
        with self.assertRaises(FileNotFoundError):
            load_ferplus("/no/such/folder", "train")

    @unittest.skipUnless(HAS_FERPLUS, f"FER+ not found at {FERPLUS}")
    def test_ferplus_loader(self):
        x, t, y, paths = load_ferplus(FERPLUS, "test", limit=200)
        self.assertEqual(x.shape, (200, 48, 48))
        np.testing.assert_allclose(t.sum(1), 1, atol=1e-6)
        self.assertTrue((y >= 0).all())
        # The majority label is the most-voted class for labelled images.
        self.assertTrue((t.argmax(1) == y).mean() > 0.95)
        self.assertTrue(all(p.startswith("test/") for p in paths))
        xe, _, ye, _ = load_ferplus(FERPLUS, "train", include_excluded=True, limit=300)
        self.assertTrue((ye == -1).any(), "no-majority images come in as soft targets")


def write_ferplus(root, per_class=6):
    """A made-up FER+ layout: labels.csv with votes, train/valid/test PNGs (48x48 noise)."""
    rng = np.random.default_rng(1)
    rows = []
    header = ["fer2013_row", "usage", "path", "image_name", "label_idx", "majority", *VOTE_COLUMNS]
    for usage, split in (("Training", "train"), ("PublicTest", "valid"), ("PrivateTest", "test")):
        for c, name in enumerate(CLASSES):
            for i in range(per_class):
                rel = f"{split}/{name}/fer{len(rows):07d}.png"
                (Path(root) / rel).parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(rng.integers(0, 256, (48, 48), dtype=np.uint8), "L").save(Path(root) / rel)
                votes = [8 if k == c else (2 if k == (c + 1) % 7 else 0) for k in range(7)]
                rows.append([len(rows), usage, rel, Path(rel).name, c, name, *votes])
    with open(Path(root) / "labels.csv", "w") as f:
        f.write(",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")


def write_lfw(root, per_class=4):
    """A made-up lfw_expressions layout: 128x128 grey JPEGs and labels.csv with a person-disjoint split."""
    rng = np.random.default_rng(2)
    lines = ["path,label_idx,class,person,split"]
    for c, name in enumerate(CLASSES):
        for i in range(per_class):
            rel = f"images/{name}/P{i}_{c:04d}.jpg"
            (Path(root) / rel).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (128, 128), dtype=np.uint8), "L").save(Path(root) / rel, quality=95)
            lines.append(f"{rel},{c},{name},P{i},{'valid' if i == 0 else 'train'}")
    (Path(root) / "labels.csv").write_text("\n".join(lines) + "\n")


def write_teachers(folder, dataset_root, name, dataset):
    """A teacher CSV (uniform-ish probabilities) for every image listed in a dataset's labels.csv."""
    import csv as csv_module

    with open(Path(dataset_root) / "labels.csv") as f:
        paths = [row["path"] for row in csv_module.DictReader(f)]
    Path(folder).mkdir(parents=True, exist_ok=True)
    with open(Path(folder) / f"{name}_{dataset}.csv", "w") as f:
        f.write("path," + ",".join(CLASSES) + "\n")
        for i, p in enumerate(paths):
            probs = np.full(7, 0.1)
            probs[i % 7] = 0.4
            f.write(p + "," + ",".join(f"{v:.5f}" for v in probs) + "\n")


class TwoSourceTests(unittest.TestCase):
    def test_lfw_loader_reads_split_and_smooths_labels(self):
        with tempfile.TemporaryDirectory() as d:
            write_lfw(d)
            x, t, y, paths = load_lfw(d, "train", smoothing=0.1)
            self.assertEqual(x.shape, (21, 48, 48))
            self.assertEqual(len(paths), 21)
            np.testing.assert_allclose(t.sum(1), 1, atol=1e-6)
            self.assertTrue(np.allclose(t[np.arange(len(y)), y], 0.9))
            vx, _, vy, _ = load_lfw(d, "valid")
            self.assertEqual(len(vy), 7)
            with self.assertRaisesRegex(ValueError, "use train or valid"):
                load_lfw(d, "test")
            with self.assertRaises(FileNotFoundError):
                load_lfw(f"{d}/nope", "train")

    def test_teacher_probs_follow_the_paths_and_name_missing_ones(self):
        with tempfile.TemporaryDirectory() as d:
            write_lfw(d)
            write_teachers(f"{d}/t", d, "face-api", "lfw")
            _, _, _, paths = load_lfw(d, "train")
            probs = load_teacher_probs(f"{d}/t/face-api_lfw.csv", paths[::-1])
            self.assertEqual(probs.shape, (21, 7))
            np.testing.assert_allclose(probs.sum(1), 1, atol=1e-4)
            with self.assertRaisesRegex(ValueError, "no probabilities for 1 images"):
                load_teacher_probs(f"{d}/t/face-api_lfw.csv", paths + ["images/x.jpg"])

    def test_smoke_run_with_both_sources_teachers_and_robustness(self):
        with tempfile.TemporaryDirectory() as d:
            write_ferplus(f"{d}/ferplus")
            write_lfw(f"{d}/lfw")
            for name in ("face-api", "mien"):
                write_teachers(f"{d}/t", f"{d}/ferplus", name, "ferplus")
                write_teachers(f"{d}/t", f"{d}/lfw", name, "lfw")
            args = ["--ferplus", f"{d}/ferplus", "--lfw", f"{d}/lfw", "--teachers", "face-api:0.6,mien:0.4", "--teacher-dir", f"{d}/t"]
            args += ["--robust", "1", "--out", f"{d}/run", "--batch", "16", "--epochs", "2", "--stages", "16:1:1,32:2:1", "--limit", "1000"]
            self.assertEqual(train.main(args), 0)
            log = [json.loads(line) for line in (Path(d) / "run/log.jsonl").read_text().splitlines()]
            self.assertEqual(len(log), 2)
            self.assertIsNotNone(log[0]["lfw"], "selection sees the LFW valid split")
            best = torch.load(Path(d) / "run/best.pt", weights_only=False)
            self.assertIn("score", best["valid"])
            with self.assertRaises(SystemExit):
                train.parse_args(["--teachers", "face-api:x"])

    def test_import_of_an_exported_model_is_exact_and_trainable(self):
        torch.manual_seed(0)
        model = MienNet(8, [(16, 1, 1), (24, 2, 2)], stem_stride=2).eval()
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2)
        with tempfile.TemporaryDirectory() as d:
            g, _ = export_tfjs.build_graph([model], np.zeros(7, dtype=np.float32))
            meta = {"name": "t", "version": "0", "architecture": model.config, "balance": {"tau": 0.0}}
            export_tfjs.write_model(g, Path(d), meta, "float32")
            images = export_tfjs.fixture_inputs()
            imported, _ = import_tfjs.import_model(d, calibration_images=np.repeat(images, 8, axis=0))
            diff = (export_tfjs.logits_of(imported, images) - export_tfjs.logits_of(model, images)).abs().max()
            self.assertLess(float(diff), 1e-4)
            # BN now carries real statistics: training mode on that data stays close to the function.
            bn = imported.blocks[0].pw_bn
            self.assertFalse(torch.allclose(bn.running_var, torch.ones_like(bn.running_var)))


class AugmentTests(unittest.TestCase):
    def test_jpeg_matches_libjpeg_and_grows_with_lower_quality(self):
        rng = np.random.default_rng(3)
        images = (np.kron(rng.integers(0, 256, (4, 12, 12)), np.ones((1, 4, 4))) + rng.normal(0, 10, (4, 48, 48))).clip(0, 255).astype(np.uint8)
        x = torch.from_numpy(images).float().div(255).unsqueeze(1)
        import io

        for quality in (30, 75):
            pil = []
            for im in images:
                buf = io.BytesIO()
                Image.fromarray(im).save(buf, "JPEG", quality=quality)
                pil.append(np.asarray(Image.open(buf), dtype=np.float32))
            ours = jpeg(x, torch.full((4,), float(quality)))[:, 0].numpy() * 255
            self.assertLess(float(np.abs(ours - np.stack(pil)).mean()), 1.0, f"quality {quality}")
        err = [float((jpeg(x, torch.full((4,), q)) - x).abs().mean()) for q in (20.0, 50.0, 90.0)]
        self.assertTrue(err[0] > err[1] > err[2])

    def test_downscale_blur_and_light_do_what_they_say(self):
        checker = torch.tensor([[(i + j) % 2 for j in range(48)] for i in range(48)], dtype=torch.float32).view(1, 1, 48, 48)
        small = resample(checker, 24)
        self.assertEqual(small.shape, checker.shape)
        self.assertLess(float((small - 0.5).abs().max()), 1e-5, "a 1-px checkerboard averages to grey at 24 px")
        noise = torch.rand(2, 1, 48, 48, generator=torch.Generator().manual_seed(0))
        self.assertLess(float(gaussian_blur(noise, torch.tensor([1.0, 1.0])).var()), float(noise.var()) / 3)
        lit = uneven_light(torch.full((1, 1, 48, 48), 0.5), torch.tensor([0.2]), torch.tensor([0.0]))
        self.assertAlmostEqual(float(lit[0, 0, 0, 0]), 0.3, places=5)
        self.assertAlmostEqual(float(lit[0, 0, 0, -1]), 0.7, places=5)

    def test_robustness_mix_is_deterministic_in_range_and_spares_some(self):
        x = torch.rand(64, 1, 48, 48, generator=torch.Generator().manual_seed(1))
        a = robustness(x, torch.Generator().manual_seed(5))
        b = robustness(x, torch.Generator().manual_seed(5))
        self.assertTrue(torch.equal(a, b))
        self.assertGreaterEqual(float(a.min()), 0)
        self.assertLessEqual(float(a.max()), 1)
        changed = (a - x).abs().flatten(1).max(1).values > 1e-6
        self.assertTrue(0 < int(changed.sum()) < 64)
        self.assertTrue(torch.equal(robustness(x, torch.Generator().manual_seed(5), p=0), x))

    def test_shape_range_and_determinism(self):
        x = torch.rand(16, 1, 48, 48)
        a = augment(x, torch.Generator().manual_seed(1))
        b = augment(x, torch.Generator().manual_seed(1))
        self.assertEqual(a.shape, x.shape)
        self.assertTrue(torch.equal(a, b))
        self.assertGreaterEqual(float(a.min()), 0)
        self.assertLessEqual(float(a.max()), 1)
        self.assertFalse(torch.equal(a, x))


class TrainExportTests(unittest.TestCase):
    def test_choose_tau_prefers_accuracy_once_recall_is_reached(self):
        table = [(0.0, 0.87, 0.74), (0.1, 0.868, 0.755), (0.2, 0.86, 0.77), (0.6, 0.84, 0.80)]
        self.assertEqual(export_tfjs.choose_tau(table, 0.75)[0], 0.1)
        self.assertEqual(export_tfjs.choose_tau(table, 0.70)[0], 0.0)
        self.assertEqual(export_tfjs.choose_tau(table, 0.90)[0], 0.6)

    def test_smoke_train_resume_export(self):
        with tempfile.TemporaryDirectory() as d:
            if HAS_FERPLUS:
                data = ["--ferplus", str(FERPLUS), "--limit", "300"]
            else:
                write_folder(Path(d) / "data", CLASSES, per_class=20, mode="L")
                data = ["--folder", str(Path(d) / "data")]
            common = data + ["--out", f"{d}/run", "--batch", "32", "--max-batches", "3", "--stages", "16:1:1,32:2:1"]
            self.assertEqual(train.main(common + ["--epochs", "2", "--stop-after", "1"]), 0)
            self.assertTrue((Path(d) / "run/best.pt").is_file())
            with self.assertRaisesRegex(ValueError, "resume it with --epochs 2"):
                train.main(common + ["--epochs", "3", "--resume"])
            self.assertEqual(train.main(common + ["--epochs", "2", "--resume"]), 0)
            log = [json.loads(line) for line in (Path(d) / "run/log.jsonl").read_text().splitlines()]
            self.assertEqual([e["epoch"] for e in log], [1, 2])

            out = Path(d) / "model"
            fixtures = Path(d) / "parity.json"
            args = [f"{d}/run/best.pt", "--out", str(out), "--fixtures", str(fixtures), "--balance", "none"]
            self.assertEqual(export_tfjs.main(args + ["--dtype", "float32", "--extra-margin", "0.1"]), 0)
            model_json = json.loads((out / "model.json").read_text())
            self.assertEqual(model_json["format"], "graph-model")
            self.assertEqual(model_json["userDefinedMetadata"]["labels"], CLASSES)
            self.assertEqual(model_json["userDefinedMetadata"]["extraMargin"], 0.1)
            probs = np.array(json.loads(fixtures.read_text())["probs"])
            np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)
            # Two checkpoints and the mirror view: one graph, described as such, answering distributions.
            pair = [f"{d}/run/best.pt", f"{d}/run/last.pt", "--flip", "--out", f"{d}/pair", "--fixtures", str(fixtures)]
            self.assertEqual(export_tfjs.main(pair + ["--balance", "none"]), 0)
            meta = json.loads((Path(d) / "pair/model.json").read_text())["userDefinedMetadata"]
            self.assertEqual((len(meta["ensemble"]["members"]), meta["ensemble"]["flip"]), (2, True))
            np.testing.assert_allclose(np.array(json.loads(fixtures.read_text())["probs"]).sum(1), 1, atol=1e-5)
            with self.assertRaisesRegex(ValueError, "balance auto tunes one network"):
                export_tfjs.main(pair)

    def test_distillation_from_a_teacher(self):
        with tempfile.TemporaryDirectory() as d:
            write_folder(Path(d) / "data", CLASSES, per_class=12, mode="L")
            common = ["--folder", str(Path(d) / "data"), "--batch", "16", "--max-batches", "2", "--epochs", "1"]
            self.assertEqual(train.main(common + ["--out", f"{d}/teacher", "--stages", "16:1:1"]), 0)
            self.assertEqual(
                train.main(common + ["--out", f"{d}/student", "--stages", "8:1:1", "--teacher", f"{d}/teacher/best.pt", f"{d}/teacher/last.pt"]),
                0,
            )
            self.assertTrue((Path(d) / "student/best.pt").is_file())
            # Born-again: start from the teacher's own weights, with a fresh schedule.
            again = common + ["--out", f"{d}/again", "--stages", "16:1:1", "--teacher", f"{d}/teacher/best.pt", "--teacher-flip"]
            self.assertEqual(train.main(again + ["--init", f"{d}/teacher/best.pt"]), 0)
            with self.assertRaises(SystemExit):
                train.main(common + ["--out", f"{d}/bad", "--stages", "8:1:1", "--init", f"{d}/teacher/best.pt"])

    def test_distillation_loss(self):
        logits = torch.tensor([[2.0, 0.0, -1.0]])
        same = torch.softmax(logits / 2, dim=1)
        self.assertAlmostEqual(float(train.distillation_loss(logits, same, 2.0)), 0.0, places=6)
        other = torch.tensor([[0.1, 0.1, 0.8]])
        self.assertGreater(float(train.distillation_loss(logits, other, 2.0)), 0.1)

    def test_graph_matches_model(self):
        torch.manual_seed(0)
        model = MienNet(8, [(16, 1, 1), (24, 2, 2)], stem_stride=2).eval()
        for m in model.modules():  # non-trivial BN statistics, so folding is exercised
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2)
        g, features = export_tfjs.build_graph([model], np.zeros(7, dtype=np.float32))
        images = export_tfjs.fixture_inputs()
        graph = export_tfjs.run_graph(g.nodes, dict(g.weights), images)
        direct = torch.softmax(export_tfjs.logits_of(model, images), 1)
        self.assertLess(float((graph - direct).abs().max()), 1e-5)
        self.assertEqual(len(features), 1 + len(model.blocks))

    def test_ensemble_with_mirror_views_averages_every_answer(self):
        torch.manual_seed(1)
        members = [MienNet(8, [(16, 1, 1), (24, 2, 2)], stem_stride=2).eval() for _ in range(2)]
        bias = np.linspace(-0.2, 0.2, 7).astype(np.float32)
        g, features = export_tfjs.build_graph(members, bias, flip=True)
        images = export_tfjs.fixture_inputs()
        graph = export_tfjs.run_graph(g.nodes, dict(g.weights), images)
        mirrored = images[:, :, ::-1].copy()
        answers = [torch.softmax(export_tfjs.logits_of(m, v) + torch.from_numpy(bias), 1) for m in members for v in (images, mirrored)]
        self.assertLess(float((graph - torch.stack(answers).mean(0)).abs().max()), 1e-5)
        self.assertGreater(float((graph - answers[0]).abs().max()), 1e-4)  # the members and views do differ
        # The first member keeps the plain graph's names (explain reads its features and classifier).
        names = {n["name"] for n in g.nodes}
        self.assertIn("logits/weights", names)
        self.assertIn("member1/logits/weights", names)
        self.assertEqual(features[0], "stem")
        self.assertEqual(g.nodes[-1]["name"], "probs")
        # A mirror-symmetric face gets the same answer from the flip graph as from its first view.
        symmetric = np.concatenate([images[:, :, :24], images[:, :, :24][:, :, ::-1]], axis=2)
        single, _ = export_tfjs.build_graph(members[:1], bias, flip=True)
        plain = torch.softmax(export_tfjs.logits_of(members[0], symmetric) + torch.from_numpy(bias), 1)
        self.assertLess(float((export_tfjs.run_graph(single.nodes, dict(single.weights), symmetric) - plain).abs().max()), 1e-5)


class AlignmentAndDenseTests(unittest.TestCase):
    def test_eye_rolls_read_the_keypoints_csv(self):
        with tempfile.TemporaryDirectory() as d:
            csv_path = Path(d) / "lfw.csv"
            csv_path.write_text(
                "path,score,right_eye_x,right_eye_y,left_eye_x,left_eye_y\n"
                "a.jpg,0.9,10,20,30,40\nb.jpg,,,,,\nc.jpg,0.8,10,20,30,20\n"
            )
            rolls = load_eye_rolls(csv_path, ["c.jpg", "a.jpg", "b.jpg"])
            np.testing.assert_allclose(rolls, [0.0, np.pi / 4, 0.0], atol=1e-6)
            with self.assertRaisesRegex(ValueError, "no row for 1 images"):
                load_eye_rolls(csv_path, ["d.jpg"])

    def test_level_eyes_turns_a_tilted_bar_level(self):
        size, angle = 48, np.deg2rad(25)
        yy, xx = np.mgrid[0:size, 0:size] + 0.5 - size / 2
        across = -xx * np.sin(angle) + yy * np.cos(angle)
        bar = np.where(np.abs(across) < 3, 230, 20).astype(np.uint8)[None]
        level = level_eyes(bar, np.array([angle], dtype=np.float32))[0]
        self.assertEqual(level.shape, (size, size))
        self.assertGreater(level[size // 2].mean(), 180)
        self.assertLess(bar[0, size // 2].mean(), 120)
        np.testing.assert_array_equal(level_eyes(bar, np.zeros(1, np.float32)), bar)

    @unittest.skipUnless(Path(f"{FACE_API_MODEL}.bin").is_file(), "face-api.js's model is not installed (npm ci)")
    def test_dense_net_takes_face_api_weights_and_exports_exactly(self):
        torch.manual_seed(0)
        net = load_faceapi(DenseFaceNet()).eval()
        images = export_tfjs.fixture_inputs(size=112)
        g, features = export_tfjs.build_graph([net], np.zeros(7, dtype=np.float32), 112)
        graph = export_tfjs.run_graph(g.nodes, dict(g.weights), images)
        direct = torch.softmax(export_tfjs.logits_of(net, images), 1)
        self.assertLess(float((graph - direct).abs().max()), 1e-5)
        self.assertEqual(len(features), 4)
        # face-api's classifier, rows put in our order: a face-api "happy" row is our happiness (index 3).
        raw = torch.from_numpy(__import__("dense_net").read_tfjs_weights(FACE_API_MODEL)["fc/bias"])
        self.assertAlmostEqual(float(net.fc.bias[3]), float(raw[1]), places=6)
        self.assertAlmostEqual(float(net.fc.bias[6]), float(raw[0]), places=6)

    def test_dense_and_aligned_smoke_run(self):
        with tempfile.TemporaryDirectory() as d:
            write_ferplus(f"{d}/ferplus")
            write_lfw(f"{d}/lfw")
            for name, root in (("ferplus", f"{d}/ferplus"), ("lfw", f"{d}/lfw")):
                rows = [line.split(",")[2 if name == "ferplus" else 0] for line in (Path(root) / "labels.csv").read_text().splitlines()[1:]]
                Path(f"{d}/kp").mkdir(exist_ok=True)
                (Path(d) / "kp" / f"{name}.csv").write_text(
                    "path,score,right_eye_x,right_eye_y,left_eye_x,left_eye_y\n" + "".join(f"{r},0.9,10,20,30,22\n" for r in rows if r)
                )
            args = ["--ferplus", f"{d}/ferplus", "--lfw", f"{d}/lfw", "--arch", "dense", "--size", "32", "--align", f"{d}/kp"]
            args += ["--out", f"{d}/run", "--batch", "16", "--epochs", "1", "--limit", "1000"]
            self.assertEqual(train.main(args), 0)
            ckpt = torch.load(Path(d) / "run/best.pt", weights_only=False)
            self.assertEqual(ckpt["config"]["arch"], "dense")
            self.assertEqual(ckpt["config"]["size"], 32)
            self.assertTrue(ckpt["config"]["align"])
            out = Path(d) / "model"
            export = [f"{d}/run/best.pt", "--out", str(out), "--fixtures", f"{d}/parity.json", "--balance", "none", "--name", "mien-fer-large"]
            self.assertEqual(export_tfjs.main(export), 0)
            meta = json.loads((out / "model.json").read_text())["userDefinedMetadata"]
            self.assertEqual((meta["name"], meta["inputSize"], meta["align"]), ("mien-fer-large", 32, True))
            self.assertEqual(len(json.loads(Path(f"{d}/parity.json").read_text())["inputs"][0]), 32 * 32)


if __name__ == "__main__":
    unittest.main()
