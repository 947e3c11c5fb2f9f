import { join } from "node:path";
import { labelIndex, LABELS } from "../shared/labels.ts";
import { UsageError } from "./run_cli.ts";

/** One labelled image on disk. */
export interface LabelledImage {
  path: string;
  label: number;
}

const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg", ".webp", ".bmp"]);

function extension(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot).toLowerCase();
}

/** List `<root>/<class>/*` images; class folders may use our names or their aliases. */
export function listLabelledFolder(root: string): LabelledImage[] {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(root);
  } catch {
    throw new UsageError(`no such folder: ${root}`);
  }
  if (!info.isDirectory) throw new UsageError(`not a folder: ${root}`);
  const images: LabelledImage[] = [];
  const folders = [...Deno.readDirSync(root)].filter((e) => e.isDirectory).map((e) => e.name).sort();
  for (const folder of folders) {
    const label = labelIndex(folder);
    if (label < 0) {
      throw new UsageError(
        `unknown class folder "${folder}" in ${root}; expected ${LABELS.join(", ")} ` +
          `(or happy, angry, sad, surprised, fearful, disgusted)`,
      );
    }
    const files = [...Deno.readDirSync(join(root, folder))]
      .filter((e) => e.isFile && IMAGE_EXTENSIONS.has(extension(e.name)))
      .map((e) => e.name)
      .sort();
    for (const file of files) images.push({ path: join(root, folder, file), label });
  }
  if (images.length === 0) throw new UsageError(`no images in class folders under ${root}`);
  return images;
}

/** FER2013's original label for each FER+ image (relative path -> class index), from the crossref. */
export function readFer2013Labels(ferplusRoot: string): Map<string, number> {
  const text = Deno.readTextFileSync(join(ferplusRoot, "fer2013_crossref.csv"));
  const [header, ...rows] = text.trim().split(/\r?\n/);
  const cols = header.split(",");
  const pathCol = cols.indexOf("ferplus_path");
  const classCol = cols.indexOf("fer2013_class");
  const statusCol = cols.indexOf("status");
  const labels = new Map<string, number>();
  for (const row of rows) {
    const cells = row.split(",");
    const label = labelIndex(cells[classCol] ?? "");
    if (cells[statusCol] === "ok" && label >= 0) labels.set(cells[pathCol], label);
  }
  return labels;
}

/** lfw_expressions images of one split (`train` or `valid`), from its labels.csv (path, label_idx, ..., split). */
export function listLfw(root: string, split: string): LabelledImage[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(join(root, "labels.csv"));
  } catch {
    throw new UsageError(`not an lfw_expressions folder (no labels.csv): ${root}`);
  }
  const [header, ...rows] = text.trim().split(/\r?\n/);
  const cols = header.split(",");
  const [pathCol, labelCol, splitCol] = ["path", "label_idx", "split"].map((c) => cols.indexOf(c));
  if (pathCol < 0 || labelCol < 0 || splitCol < 0) {
    throw new UsageError(`${root}/labels.csv needs path, label_idx and split columns`);
  }
  const images = rows.map((row) => row.split(",")).filter((cells) => cells[splitCol] === split)
    .map((cells) => ({ path: join(root, cells[pathCol]), label: Number(cells[labelCol]) }));
  if (images.length === 0) throw new UsageError(`no ${split} images in ${root}/labels.csv`);
  return images;
}
