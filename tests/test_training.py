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
import train  # noqa: E402
from augment import augment  # noqa: E402
from data import CLASSES, class_index, load_ferplus, load_image_folder, soft_targets  # noqa: E402
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


class AugmentTests(unittest.TestCase):
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
            self.assertEqual(export_tfjs.main(args + ["--dtype", "float32"]), 0)
            model_json = json.loads((out / "model.json").read_text())
            self.assertEqual(model_json["format"], "graph-model")
            self.assertEqual(model_json["userDefinedMetadata"]["labels"], CLASSES)
            probs = np.array(json.loads(fixtures.read_text())["probs"])
            np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)

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
            again = common + ["--out", f"{d}/again", "--stages", "16:1:1", "--teacher", f"{d}/teacher/best.pt"]
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
        g, features = export_tfjs.build_graph(model, np.zeros(7, dtype=np.float32))
        images = export_tfjs.fixture_inputs()
        graph = export_tfjs.run_graph(g.nodes, dict(g.weights), images)
        direct = torch.softmax(export_tfjs.logits_of(model, images), 1)
        self.assertLess(float((graph - direct).abs().max()), 1e-5)
        self.assertEqual(len(features), 1 + len(model.blocks))


if __name__ == "__main__":
    unittest.main()
