/// <reference lib="dom" />
/**
 * Result page for "Analyse facial expression": fetches the image through the extension (no tainted
 * canvas), shows boxes and per-class bars, and each face's feature maps and Grad-CAM on request.
 */
import { modelInput } from "../shared/align.ts";
import { explainFace, renderExplanation } from "../shared/explain.ts";
import { browser, bundledAssets } from "./browser.ts";
import { createEngine } from "./engine.ts";
import { loadSettings } from "./settings.ts";
import { count, scoresRecord } from "../shared/labels.ts";
import {
  drawFaceBoxes,
  faceCard,
  numberFaces,
  useResultStyles,
  type ViewFace,
} from "../shared/result_view.ts";
import { $, ESTIMATE_NOTE } from "./ui.ts";

const src = new URLSearchParams(location.search).get("src") ?? "";
const canvas = $<HTMLCanvasElement>("image");
const status = $("status");
$("note").textContent = ESTIMATE_NOTE;
$("source").textContent = src;

/** The image's pixels, fetched by the extension (the page's copy may be a tainted cross-origin image). */
async function fetchImage(url: string): Promise<ImageData> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch {
    const origin = new URL(url).origin;
    if (origin.startsWith("http") && !(await browser.permissions.contains({ origins: [`${origin}/*`] }))) {
      const button = $<HTMLButtonElement>("grant");
      button.hidden = false;
      button.onclick = async () => {
        if (await browser.permissions.request({ origins: [`${origin}/*`] })) location.reload();
      };
      throw new Error(`Mien may not read images from ${origin}: allow it, then try again`);
    }
    throw new Error("Could not fetch the image: check that its page is still online, then try again");
  }
  if (!res.ok) throw new Error(`The image's site answered ${res.status} (${res.statusText || "an error"})`);
  const bitmap = await createImageBitmap(await res.blob()).catch(() => {
    throw new Error(
      "This image's format cannot be read here: Mien reads JPEG, PNG, WebP, GIF and BMP images",
    );
  });
  const off = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = off.getContext("2d")!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, off.width, off.height);
}

/** The image with each face's numbered box and tag, at a readable size however the page scales it. */
function drawResult(image: ImageData, faces: ViewFace[]) {
  canvas.width = image.width;
  canvas.height = image.height;
  const ctx = canvas.getContext("2d")!;
  ctx.putImageData(image, 0, 0);
  drawFaceBoxes(ctx, faces, image.width / Math.max(1, canvas.getBoundingClientRect().width));
}

async function showExplanation(
  engine: Awaited<ReturnType<typeof createEngine>>,
  image: ImageData,
  face: ViewFace,
  button: HTMLButtonElement,
) {
  const view = $("explainView");
  if (!view.hidden && view.dataset.face === String(face.number)) {
    view.hidden = true;
    button.textContent = "Show feature maps";
    return;
  }
  document.querySelectorAll<HTMLButtonElement>(".mien-card button").forEach((b) =>
    b.textContent = "Show feature maps"
  );
  const { model, detector } = engine.analyzer;
  const input = modelInput(image, face, detector, model.info);
  const picture = renderExplanation(await explainFace(model, input));
  const shown = $<HTMLCanvasElement>("explain");
  shown.width = picture.width;
  shown.height = picture.height;
  shown.getContext("2d")!.putImageData(
    new ImageData(new Uint8ClampedArray(picture.data), picture.width, picture.height),
    0,
    0,
  );
  $("explainTitle").textContent =
    `Face ${face.number}: feature maps of every block and Grad-CAM (computed on this device)`;
  view.dataset.face = String(face.number);
  view.hidden = false;
  button.textContent = "Hide feature maps";
  view.scrollIntoView();
}

/** Plain words for a failure: the message as it is when it is ours, a sentence around a browser's own. */
function plainError(error: unknown): string {
  const message = (error as Error).message;
  return /^[A-Z]/.test(message) ? message : `Something went wrong: ${message}.`;
}

status.textContent = "Fetching the image…";
const engine = loadSettings().then((s) => createEngine(s, bundledAssets()));
engine.catch(() => {}); // reported below, once the image is shown (or could not be fetched)
let image: ImageData | null = null;
try {
  image = await fetchImage(src);
  // The picture first: it stays in view whatever becomes of the analysis.
  useResultStyles();
  drawResult(image, []);
  status.textContent = "Analysing…";
  const ready = await engine;
  const result = await ready.analyze(image, { maxFaces: 20 });
  const faces = numberFaces(result.faces.map((f) => ({ box: f.box, scores: scoresRecord(f.scores) })));
  drawResult(image, faces);
  const where = result.source === "remote" ? "by the Edge API (face crops only)" : "on this device";
  status.textContent = faces.length
    ? `${count(faces.length, "face")}, classified ${where}.`
    : "No face found: faces must be at least 24 px and turned to the camera; try a larger image of the face.";
  if (result.problem) $("problem").textContent = `${result.problem}; classified on this device instead.`;
  $("faces").replaceChildren(...faces.map((face) => {
    const card = faceCard(face);
    const button = document.createElement("button");
    button.textContent = "Show feature maps";
    button.addEventListener("click", () => showExplanation(ready, image!, face, button));
    card.append(button);
    return card;
  }));
} catch (error) {
  status.textContent = image ? "The image could not be analysed." : "";
  $("problem").textContent = plainError(error);
}
