/** The 640x480 colour frames and photo sets of the peer benchmark, from ../shared/media and face-api's demo. */
import { join } from "node:path";
import { decodeImage } from "../../shared/decode.ts";
import { type Frame, resampleGray } from "../../shared/preprocess.ts";
import { EXPECTED, FACE_API_DEMO, FACE_API_EXPECTED } from "../pipeline_bench.ts";
import type { Manifest } from "./run_peer.ts";

/** Photos letterboxed alone (1 face) and tiled 2x2 (4 single-face photos) into 640x480 frames. */
export const FRAME_PHOTOS = {
  "1 face": ["alex-lacamoire.png"],
  "4 faces": ["obama2.jpg", "crying.jpg", "lin-manuel-miranda.png", "scowl.jpg"],
} as const;

/** One colour channel (0 R, 1 G, 2 B) of a frame as floats. */
function channel(frame: Frame, c: number): Float32Array {
  const channels = frame.channels ?? 4;
  const out = new Float32Array(frame.width * frame.height);
  const k = channels < 3 ? 0 : c;
  for (let i = 0; i < out.length; i++) out[i] = frame.data[i * channels + k];
  return out;
}

/** Draw `frame`, scaled to fit and centred, into the w x h cell at (x, y) of an RGBA canvas. */
function drawFit(canvas: Frame, frame: Frame, x0: number, y0: number, w: number, h: number) {
  const scale = Math.min(w / frame.width, h / frame.height);
  const sw = Math.round(frame.width * scale);
  const sh = Math.round(frame.height * scale);
  const whole = { x: 0, y: 0, width: frame.width, height: frame.height };
  const planes = [0, 1, 2].map((c) =>
    resampleGray(channel(frame, c), frame.width, frame.height, whole, sw, sh)
  );
  const ox = x0 + ((w - sw) >> 1);
  const oy = y0 + ((h - sh) >> 1);
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      const o = ((oy + y) * canvas.width + ox + x) * 4;
      for (let c = 0; c < 3; c++) canvas.data[o + c] = planes[c][y * sw + x];
    }
  }
}

/** A 640x480 RGBA frame (grey background) with one photo letterboxed, or four tiled 2x2. */
export function composeFrame(photos: Frame[]): Frame {
  const canvas: Frame = { data: new Uint8ClampedArray(640 * 480 * 4).fill(128), width: 640, height: 480 };
  for (let i = 3; i < canvas.data.length; i += 4) canvas.data[i] = 255;
  if (photos.length === 1) drawFit(canvas, photos[0], 0, 0, 640, 480);
  else photos.forEach((p, i) => drawFit(canvas, p, (i % 2) * 320, Math.floor(i / 2) * 240, 320, 240));
  return canvas;
}

/** Write the frames (raw RGBA) into `dir` and return the manifest the pipeline processes read. */
export async function writeManifest(media: string, dir: string): Promise<Manifest> {
  const frames: Manifest["frames"] = [];
  for (const [name, files] of Object.entries(FRAME_PHOTOS)) {
    const photos = await Promise.all(
      files.map(async (f) => decodeImage(await Deno.readFile(join(media, f)))),
    );
    const frame = composeFrame(photos);
    const file = join(dir, `${name.replace(" ", "-")}.rgba`);
    await Deno.writeFile(file, new Uint8Array(frame.data.buffer));
    frames.push({ name, file, width: frame.width, height: frame.height, faces: files.length });
  }
  const set = (name: string, root: string, counts: Record<string, number>) => ({
    name,
    photos: Object.entries(counts).map(([file, faces]) => ({ path: join(root, file), faces })),
  });
  return {
    frames,
    photoSets: [set("shared/media", media, EXPECTED), set("face-api demo", FACE_API_DEMO, FACE_API_EXPECTED)],
  };
}
