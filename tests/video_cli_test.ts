import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { probeVideo, readFrames, scaledSize } from "../cli/ffmpeg.ts";
import type { FaceResult } from "../shared/analyzer.ts";
import { annotate } from "../shared/annotate.ts";
import { decodeImage } from "../shared/decode.ts";
import { type Label, scoresRecord } from "../shared/labels.ts";
import type { Box, Frame } from "../shared/preprocess.ts";
import { hasFfmpeg } from "./extension_helpers.ts";
import { MEDIA, ROOT, runCli } from "./helpers.ts";

const FFMPEG = hasFfmpeg();
if (!FFMPEG) console.warn("ffmpeg not found (apt-get install -y ffmpeg): video CLI tests are skipped");

/** What ffprobe reports of a video's stream, as "a,b,…" for the stream fields asked (frames counted by decoding). */
async function probe(path: string, fields = "nb_read_frames"): Promise<string> {
  const out = await new Deno.Command("ffprobe", {
    args: ["-v", "error", "-count_frames", "-show_entries", `stream=${fields}`, "-of", "csv=p=0", path],
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** A `seconds`-long, 15 fps, 320x240 MP4 of a face (from a face-api demo photo) drifting right. */
async function makeClip(dir: string, seconds = 2): Promise<string> {
  const photo = `${ROOT}node_modules/@vladmandic/face-api/demo/sample2.jpg`;
  const out = `${dir}/clip${seconds}.mp4`;
  // Crop around the right-hand face, then pan the crop a little each frame.
  const filter = `crop=600:450:1250+t*${80 / seconds}:60,scale=320:240`;
  const r = await new Deno.Command("ffmpeg", {
    args: [
      "-v",
      "error",
      "-y",
      "-loop",
      "1",
      "-i",
      photo,
      "-t",
      String(seconds),
      "-r",
      "15",
      "-vf",
      filter,
      "-pix_fmt",
      "yuv420p",
      out,
    ],
  }).output();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
  return out;
}

Deno.test({
  name: "analyze <video>: JSON rows per face and analysed frame, an annotated copy and a timeline chart",
  ignore: !FFMPEG,
  async fn() {
    const dir = await Deno.makeTempDir();
    const clip = await makeClip(dir);
    const r = await runCli("cli/analyze.ts", [
      clip,
      "--json",
      "--every",
      "2",
      "--annotate",
      `${dir}/out.mp4`,
      "--chart",
      `${dir}/chart.png`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.ok(rows.length >= 12, `${rows.length} rows`);
    assert.ok(rows.every((row) => row.frame % 2 === 0), "only every 2nd frame analysed");
    assert.equal(new Set(rows.map((row) => row.face)).size, 1, "one face, one id");
    for (const row of rows) {
      assert.equal(row.scores.length, 7);
      assert.ok(Math.abs(row.scores.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-3);
      assert.ok(row.box.width > 20 && row.timeS >= 0 && row.timeS < 2.1);
    }
    assert.match(r.stderr, /15 of 30 frames analysed \(2\.0 s of video\)/);
    assert.equal(await probe(`${dir}/out.mp4`, "nb_read_frames,width,height"), "320,240,30");
    const chart = await decodeImage(await Deno.readFile(`${dir}/chart.png`));
    assert.ok(chart.width >= 600 && chart.height >= 100);

    const csv = await runCli("cli/analyze.ts", [clip, "--out", `${dir}/rows.csv`]);
    assert.equal(csv.code, 0, csv.stderr);
    const lines = (await Deno.readTextFile(`${dir}/rows.csv`)).trim().split("\n");
    assert.equal(
      lines[0],
      "time_s,frame,face,x,y,width,height,label,surprise,fear,disgust,happiness,sadness,anger,neutral",
    );
    assert.ok(lines.length >= 25);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("analyze <video>: clear errors for a missing file, bad options and non-videos", async () => {
  let r = await runCli("cli/analyze.ts", ["/no/such/clip.mp4"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no such file: \/no\/such\/clip\.mp4/);
  r = await runCli("cli/analyze.ts", ["x.mp4", "--every", "0"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--every must be a positive integer/);
  r = await runCli("cli/analyze.ts", ["x.mp4", "--csv", "--json"]);
  assert.match(r.stderr, /--csv or --json, not both/);
  r = await runCli("cli/analyze.ts", [
    `${ROOT}node_modules/@vladmandic/face-api/demo/sample1.jpg`,
    "--every",
    "2",
  ]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--every is for videos/);
  if (FFMPEG) {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/fake.mp4`, "not a video");
    r = await runCli("cli/analyze.ts", [`${dir}/fake.mp4`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read .*fake\.mp4 as a video/);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "analyze <video>: Ctrl-C stops early, keeps the rows and a playable annotated video",
  ignore: !FFMPEG,
  async fn() {
    const dir = await Deno.makeTempDir();
    const clip = await makeClip(dir, 60);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `${ROOT}cli/analyze.ts`,
        clip,
        "--out",
        `${dir}/rows.csv`,
        "--annotate",
        `${dir}/out.mp4`,
      ],
      cwd: ROOT,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Interrupt once rows are being written.
    for (let i = 0; i < 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const text = await Deno.readTextFile(`${dir}/rows.csv`).catch(() => "");
      if (text.split("\n").length > 20) break;
    }
    try {
      child.kill("SIGINT");
    } catch (error) {
      const err = new TextDecoder().decode((await new Response(child.stderr).arrayBuffer()) as ArrayBuffer);
      throw new Error(`the CLI ended before Ctrl-C: ${err}`, { cause: error });
    }
    const status = await child.status;
    const stderr = new TextDecoder().decode((await new Response(child.stderr).arrayBuffer()) as ArrayBuffer);
    assert.equal(status.code, 130, stderr);
    assert.match(stderr, /stopped early, what was analysed is kept/);
    const rows = (await Deno.readTextFile(`${dir}/rows.csv`)).trim().split("\n");
    assert.ok(rows.length > 20 && rows.length < 900, `${rows.length} rows of a 900-frame clip`);
    const written = Number(await probe(`${dir}/out.mp4`));
    assert.ok(written >= rows.length - 1, `annotated video has ${written} frames`);
    await Deno.remove(dir, { recursive: true });
  },
});

const CLIP = `${MEDIA}/short_hamilton_clip.mp4`;
const HAS_CLIP = existsSync(CLIP);
if (!HAS_CLIP) console.warn(`${CLIP} not found: the clip's drawn-video test is skipped`);

/** A JSON row of `deno task analyze <video> --json`. */
interface Row {
  timeS: number;
  frame: number;
  face: number;
  box: Box;
  label: Label;
  scores: number[];
}

/** How far a drawn frame is from `frame` drawn with these faces (mean absolute difference over their boxes and tags). */
function distance(drawn: Frame, frame: Frame, faces: (FaceResult & { number: number })[]): number {
  const expected = annotate(frame, { faces }, { cards: false });
  let sum = 0;
  let n = 0;
  for (const { box } of faces) {
    // The box and the tag above it (a tag is at most ~24 px high at this size).
    const [x0, x1] = [
      Math.max(0, Math.floor(box.x)),
      Math.min(frame.width, Math.ceil(box.x + 2 * box.width)),
    ];
    const [y0, y1] = [
      Math.max(0, Math.floor(box.y - 24)),
      Math.min(frame.height, Math.ceil(box.y + box.height)),
    ];
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const i = (y * frame.width + x) * 4;
        for (let c = 0; c < 3; c++) sum += Math.abs(drawn.data[i + c] - expected.data[i + c]);
        n += 3;
      }
    }
  }
  return sum / Math.max(1, n);
}

Deno.test({
  name: "analyze <clip>: one person keeps one number in the rows and in the drawn video",
  ignore: !FFMPEG || !HAS_CLIP,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const r = await runCli("cli/analyze.ts", [CLIP, "--json", "--annotate", `${dir}/out.mp4`]);
      assert.equal(r.code, 0, r.stderr);
      const rows: Row[] = r.stdout.trim().split("\n").map((line) => JSON.parse(line));
      // Time as a player counts it (the clip's first frame shows at 0.852 s), and the frame's number on the
      // clip's 29.97 frames/s from 0 at time 0; the faces of the first frame shown from it.
      assert.ok(rows.every((row) => row.frame === Math.round(row.timeS * 29.97)), "frame = time x rate");
      assert.equal(Math.min(...rows.map((row) => row.timeS)), 0.852019);
      // Boxes are clipped to the 640x360 clip (the face at its right edge at 3.3 s has a detector box past it).
      const outside = rows.filter(({ box }) =>
        box.x < 0 || box.y < 0 || box.x + box.width > 640 || box.y + box.height > 360
      );
      assert.deepEqual(outside, [], "boxes inside the video");
      assert.ok(rows.some(({ box }) => box.x + box.width === 640), "a box clipped at the right edge");
      // The performer's shot (3.7-7.8 s): one face, moving and gesturing, one number on every frame.
      const shot = rows.filter((row) => row.timeS >= 3.8 && row.timeS <= 7.7);
      const numbers = new Set(shot.map((row) => row.face));
      assert.equal(numbers.size, 1, `the performer is numbered ${[...numbers].join(", ")}`);
      assert.ok(
        new Set(shot.map((row) => row.frame)).size >= 0.95 * 3.9 * 29.97,
        "followed through the shot",
      );
      // The audience shot (from 7.9 s): three people, three numbers, each kept.
      const audience = rows.filter((row) => row.timeS >= 8);
      assert.equal(new Set(audience.map((row) => row.face)).size, 3);
      // Numbers go by first appearance from 1, and the summary counts the faces followed for a second.
      const firsts = [...new Set(rows.map((row) => row.face))];
      assert.deepEqual(firsts, firsts.map((_, i) => i + 1));
      assert.match(r.stderr, /; \d+ faces?( \(and \d+ seen for under a second\))?\n/);

      // The drawn video: every 10th frame of the shot shows the rows' number, not one counted left to right.
      const info = await probeVideo(CLIP);
      const size = scaledSize(info, 640);
      const [performer] = numbers;
      const byFrame = Map.groupBy(rows, (row) => row.frame - 26); // the clip's first frame is number 26
      const drawn = readFrames(`${dir}/out.mp4`, size)[Symbol.asyncIterator]();
      let checked = 0;
      let index = 0;
      for await (const frame of readFrames(CLIP, size)) {
        const out = (await drawn.next()).value as Frame;
        const faces = byFrame.get(index) ?? [];
        if (index++ % 10 || !faces.length) continue;
        const asDrawn = (swap: (n: number) => number) =>
          faces.map((row) => ({
            box: row.box,
            score: 1,
            number: swap(row.face),
            expression: { label: row.label, scores: scoresRecord(row.scores) },
          }));
        const right = distance(out, frame, asDrawn((n) => n));
        for (const other of [1, 2, 3, 4, 5, 6, 7, 8, 9].filter((n) => n !== performer)) {
          const wrong = distance(out, frame, asDrawn((n) => (n === performer ? other : n)));
          if (faces.some((row) => row.face === performer)) {
            assert.ok(right < wrong, `frame ${index - 1}: drawn number closer to ${other} than ${performer}`);
          }
        }
        checked++;
      }
      await drawn.return?.(undefined);
      assert.ok(checked >= 20, `${checked} drawn frames checked`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
