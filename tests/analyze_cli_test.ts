import assert from "node:assert/strict";
import decodePng from "@jsquash/png/decode.js";
import { FACES_JPG, hasFfmpeg } from "./extension_helpers.ts";
import { HAS_MEDIA, MEDIA, runCli } from "./helpers.ts";

Deno.test("analyze --help, missing input and bad values give clear messages", async () => {
  let r = await runCli("cli/analyze.ts", ["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--annotate/);
  assert.match(r.stdout, /not a reading of anyone's inner state/);
  r = await runCli("cli/analyze.ts", ["/no/such.png"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no such file or folder/);
  r = await runCli("cli/analyze.ts", ["--max-faces", "zero", "/no/such.png"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--max-faces must be a positive integer/);
  r = await runCli("cli/analyze.ts", ["--bogus", "x.png"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), "analyze: unknown option --bogus; see --help");
  r = await runCli("cli/analyze.ts", ["x.png", "--out", "y.png"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--out is for videos .*use --annotate out\.png/);
});

Deno.test("analyze reports an unreadable image as a JSON error and exits 1", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/broken.jpg`, "not a jpeg");
  const r = await runCli("cli/analyze.ts", ["--json", dir]);
  assert.equal(r.code, 1);
  const line = JSON.parse(r.stdout.trim());
  assert.equal(line.error.code, "bad_image");
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "analyze a real photo: JSON per image and an annotated PNG",
  ignore: !HAS_MEDIA,
  async fn() {
    const dir = await Deno.makeTempDir();
    const r = await runCli("cli/analyze.ts", [
      `${MEDIA}/two_people.jpg`,
      "--json",
      "--annotate",
      `${dir}/a.png`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim());
    assert.equal(result.width, 1126);
    assert.equal(result.faces.length, 2);
    assert.equal(Object.keys(result.faces[0].expression.scores).length, 7);
    // Faces are numbered left to right, as the picture numbers them.
    assert.deepEqual(result.faces.map((f: { number: number }) => f.number), [1, 2]);
    assert.ok(result.faces[0].box.x < result.faces[1].box.x);
    const png = await decodePng((await Deno.readFile(`${dir}/a.png`)).buffer);
    assert.equal(png.width, 1126);
    // The picture, then a strip with a card per face below it (nothing drawn over the faces but boxes).
    assert.ok(png.height > 661 && png.height < 661 + 400, `${png.height}`);
    const below = Array.from(png.data.slice(661 * 1126 * 4, 662 * 1126 * 4));
    assert.ok(
      below.filter((v, i) => i % 4 !== 3 && v > 200).length > 1000,
      "a light card strip starts at row 661",
    );
    // The cards fill the strip, as the page's do: from the right, a card's grey border comes within 30 px.
    const row = 661 + 40;
    let x = 1125;
    while (x > 0 && png.data[(row * 1126 + x) * 4] === 255) x--;
    assert.ok(x > 1126 - 30, `the rightmost card ends at x ${x}`);
    assert.deepEqual(Array.from(png.data.slice((row * 1126 + x) * 4, (row * 1126 + x) * 4 + 3)), [
      221,
      221,
      221,
    ]);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "analyze's table numbers faces left to right, as the picture does",
  ignore: !HAS_MEDIA,
  async fn() {
    const r = await runCli("cli/analyze.ts", [`${MEDIA}/two_people.jpg`]);
    assert.equal(r.code, 0, r.stderr);
    const rows = [...r.stdout.matchAll(/#(\d+) \[(\d+),/g)].map((m) => ({
      n: Number(m[1]),
      x: Number(m[2]),
    }));
    assert.deepEqual(rows.map((row) => row.n), [1, 2]);
    assert.ok(rows[0].x < rows[1].x, r.stdout);
  },
});

Deno.test({
  name: "analyze scales a photo over 40 megapixels down to analyse it, and gives boxes in its own pixels",
  ignore: !hasFfmpeg(),
  async fn() {
    const dir = await Deno.makeTempDir();
    const big = `${dir}/big.jpg`;
    const made = await new Deno.Command("ffmpeg", {
      args: ["-v", "error", "-y", "-i", FACES_JPG, "-vf", "scale=10000:6667", "-q:v", "5", big],
    }).output();
    assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
    const r = await runCli("cli/analyze.ts", [big, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /10000x6667 is over 40,000,000 pixels; analysed at \d+x\d+ \(boxes are given in the original's pixels\)/,
    );
    const result = JSON.parse(r.stdout);
    assert.deepEqual([result.width, result.height], [10000, 6667]);
    // The same three faces as at 1920x1280, at 10000/1920 the size.
    const small = JSON.parse((await runCli("cli/analyze.ts", [FACES_JPG, "--json"])).stdout);
    assert.equal(result.faces.length, small.faces.length);
    result.faces.forEach((f: { box: { x: number } }, i: number) => {
      const expected = small.faces[i].box.x * 10000 / 1920;
      assert.ok(Math.abs(f.box.x - expected) < 0.03 * 10000, `face ${i + 1} at ${f.box.x}, not ${expected}`);
    });
    await Deno.remove(dir, { recursive: true });
  },
});
