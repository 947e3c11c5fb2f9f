/// <reference lib="dom" />
/**
 * Result page for "Analyze facial expression": fetches the image through the extension (no tainted
 * canvas), shows boxes and per-class bars, and each face's feature maps and Grad-CAM on request.
 */
import { faceCrop } from "../shared/analyzer.ts";
import { explainFace, renderExplanation } from "../shared/explain.ts";
import { faceInput } from "../shared/preprocess.ts";
import { browser } from "./browser.ts";
import { createEngine, type EngineResult } from "./engine.ts";
import { loadSettings } from "./settings.ts";
import { $, classBars, ESTIMATE_NOTE } from "./ui.ts";

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
  } catch (error) {
    const origin = new URL(url).origin;
    if (origin.startsWith("http") && !(await browser.permissions.contains({ origins: [`${origin}/*`] }))) {
      const button = $<HTMLButtonElement>("grant");
      button.hidden = false;
      button.onclick = async () => {
        if (await browser.permissions.request({ origins: [`${origin}/*`] })) location.reload();
      };
      throw new Error(`Mien may not read images from ${origin}: allow it, then try again`);
    }
    throw new Error(`could not fetch the image (${(error as Error).message})`);
  }
  if (!res.ok) throw new Error(`the image's site answered ${res.status}`);
  const bitmap = await createImageBitmap(await res.blob());
  const off = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = off.getContext("2d")!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, off.width, off.height);
}

function drawResult(image: ImageData, result: EngineResult) {
  canvas.width = image.width;
  canvas.height = image.height;
  const ctx = canvas.getContext("2d")!;
  ctx.putImageData(image, 0, 0);
  const line = Math.max(2, Math.round(Math.max(image.width, image.height) / 300));
  ctx.lineWidth = line;
  ctx.font = `600 ${line * 7}px system-ui, sans-serif`;
  result.faces.forEach((f, i) => {
    const text = `${i + 1}: ${f.label}`;
    ctx.strokeStyle = ctx.fillStyle = "#ffc400";
    ctx.strokeRect(f.box.x, f.box.y, f.box.width, f.box.height);
    ctx.fillRect(f.box.x - line / 2, f.box.y - line * 9, ctx.measureText(text).width + line * 3, line * 9);
    ctx.fillStyle = "#111";
    ctx.fillText(text, f.box.x + line, f.box.y - line * 2);
  });
}

async function showExplanation(
  engine: Awaited<ReturnType<typeof createEngine>>,
  image: ImageData,
  result: EngineResult,
  index: number,
) {
  const { model, detector } = engine.analyzer;
  const face = result.faces[index];
  const input = faceInput(image, model.info.inputSize, faceCrop(face.box, detector.cropMargin));
  const picture = renderExplanation(await explainFace(model, input));
  const view = $<HTMLCanvasElement>("explain");
  view.width = picture.width;
  view.height = picture.height;
  view.getContext("2d")!.putImageData(
    new ImageData(new Uint8ClampedArray(picture.data), picture.width, picture.height),
    0,
    0,
  );
  $("explainTitle").textContent = `Face ${
    index + 1
  }: feature maps of every block and Grad-CAM (computed on this device)`;
  $("explainView").hidden = false;
  $("explainView").scrollIntoView();
}

try {
  status.textContent = "Fetching the image…";
  const [image, engine] = await Promise.all([fetchImage(src), loadSettings().then((s) => createEngine(s))]);
  status.textContent = "Analysing…";
  const result = await engine.analyze(image, { maxFaces: 20 });
  drawResult(image, result);
  const where = result.source === "remote" ? "by the Edge API (face crops only)" : "on this device";
  status.textContent = `${result.faces.length} face(s), classified ${where} in ${Math.round(result.ms)} ms.`;
  if (result.problem) $("problem").textContent = `${result.problem}; classified on this device instead.`;
  const list = $("faces");
  result.faces.forEach((face, i) => {
    const card = document.createElement("div");
    card.className = "face";
    const title = document.createElement("h3");
    title.textContent = `Face ${i + 1}: ${face.label} (${Math.round(Math.max(...face.scores) * 100)}%)`;
    const button = document.createElement("button");
    button.textContent = "Show feature maps";
    button.addEventListener("click", () => showExplanation(engine, image, result, i));
    card.append(title, classBars(face.scores), button);
    list.append(card);
  });
} catch (error) {
  status.textContent = "";
  $("problem").textContent = (error as Error).message;
}
