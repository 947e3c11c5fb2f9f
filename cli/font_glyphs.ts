/**
 * Writes shared/font_glyphs.ts: the outlines of the characters Mien's pictures use (printable ASCII and a
 * few marks), regular and bold, read from DejaVu Sans TrueType files (Debian's fonts-dejavu-core), the
 * font that system-ui gives the browser views here. Run once after changing CHARS:
 *
 *   deno run -A cli/font_glyphs.ts [regular.ttf bold.ttf]
 */

/** The characters drawn: printable ASCII, the middle dot of face tags, dashes, the ellipsis and ×. */
const CHARS = [...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)), "·", "–", "—", "…", "×"];
const DEFAULT_FILES = [
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
];

/** A parsed TrueType font: what its tables say about the glyphs we need. */
interface TrueType {
  unitsPerEm: number;
  ascender: number;
  descender: number;
  glyphIndex(code: number): number;
  advance(glyph: number): number;
  /** Contours of points (x, y, on the curve?) in font units, y up. */
  contours(glyph: number): [number, number, boolean][][];
}

/** Read the tables of a TrueType (glyf-outline) font. */
function parseTrueType(bytes: Uint8Array): TrueType {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tables = new Map<string, number>();
  for (let i = 0; i < view.getUint16(4); i++) {
    const at = 12 + 16 * i;
    tables.set(String.fromCharCode(...bytes.subarray(at, at + 4)), view.getUint32(at + 8));
  }
  const table = (tag: string) => {
    const offset = tables.get(tag);
    if (offset === undefined) throw new Error(`the font has no ${tag} table (not a TrueType outline font?)`);
    return offset;
  };
  const head = table("head");
  const hhea = table("hhea");
  const longLoca = view.getInt16(head + 50) === 1;
  const metrics = view.getUint16(hhea + 34);
  const hmtx = table("hmtx");
  const loca = table("loca");
  const glyf = table("glyf");
  const glyphStart = (g: number) =>
    longLoca ? view.getUint32(loca + 4 * g) : 2 * view.getUint16(loca + 2 * g);

  // cmap: the Windows Unicode BMP subtable (format 4).
  const cmap = table("cmap");
  let sub = -1;
  for (let i = 0; i < view.getUint16(cmap + 2); i++) {
    const at = cmap + 4 + 8 * i;
    if (view.getUint16(at) === 3 && view.getUint16(at + 2) === 1) sub = cmap + view.getUint32(at + 4);
  }
  if (sub < 0 || view.getUint16(sub) !== 4) throw new Error("the font has no Unicode BMP cmap");
  const segments = view.getUint16(sub + 6) / 2;
  const ends = sub + 14;
  const starts = ends + 2 * segments + 2;
  const deltas = starts + 2 * segments;
  const ranges = deltas + 2 * segments;

  function glyphIndex(code: number): number {
    for (let s = 0; s < segments; s++) {
      if (code > view.getUint16(ends + 2 * s)) continue;
      const start = view.getUint16(starts + 2 * s);
      if (code < start) return 0;
      const delta = view.getInt16(deltas + 2 * s);
      const range = view.getUint16(ranges + 2 * s);
      if (!range) return (code + delta) & 0xffff;
      const g = view.getUint16(ranges + 2 * s + range + 2 * (code - start));
      return g ? (g + delta) & 0xffff : 0;
    }
    return 0;
  }

  function contours(g: number): [number, number, boolean][][] {
    const at = glyf + glyphStart(g);
    if (glyphStart(g + 1) === glyphStart(g)) return []; // no outline (space)
    const count = view.getInt16(at);
    if (count < 0) return composite(at + 10);
    const endPoints = Array.from({ length: count }, (_, i) => view.getUint16(at + 10 + 2 * i));
    const points = endPoints[count - 1] + 1;
    let p = at + 10 + 2 * count;
    p += 2 + view.getUint16(p); // instructions
    const flags: number[] = [];
    while (flags.length < points) {
      const flag = bytes[p++];
      flags.push(flag);
      if (flag & 8) { for (let r = bytes[p++]; r > 0; r--) flags.push(flag); }
    }
    const coordinates = (short: number, same: number) => {
      let value = 0;
      return flags.map((flag) => {
        if (flag & short) value += flag & same ? bytes[p++] : -bytes[p++];
        else if (!(flag & same)) {
          value += view.getInt16(p);
          p += 2;
        }
        return value;
      });
    };
    const xs = coordinates(2, 16);
    const ys = coordinates(4, 32);
    let first = 0;
    return endPoints.map((end) => {
      const contour = xs.slice(first, end + 1).map((x, i): [number, number, boolean] => [
        x,
        ys[first + i],
        (flags[first + i] & 1) === 1,
      ]);
      first = end + 1;
      return contour;
    });
  }

  /** A composite glyph's parts, each moved by its x/y offset (scaled parts are not used by these glyphs). */
  function composite(at: number): [number, number, boolean][][] {
    const out: [number, number, boolean][][] = [];
    for (let more = true; more;) {
      const flags = view.getUint16(at);
      const part = view.getUint16(at + 2);
      const words = flags & 1;
      const dx = words ? view.getInt16(at + 4) : view.getInt8(at + 4);
      const dy = words ? view.getInt16(at + 6) : view.getInt8(at + 5);
      if (!(flags & 2)) throw new Error("composite glyph with point-matched parts");
      if (flags & (8 | 0x40 | 0x80)) throw new Error("composite glyph with scaled parts");
      for (const c of contours(part)) out.push(c.map(([x, y, on]) => [x + dx, y + dy, on]));
      at += 4 + (words ? 4 : 2);
      more = (flags & 0x20) !== 0;
    }
    return out;
  }

  return {
    unitsPerEm: view.getUint16(head + 18),
    ascender: view.getInt16(hhea + 4),
    descender: view.getInt16(hhea + 6),
    glyphIndex,
    advance: (g) => view.getUint16(hmtx + 4 * Math.min(g, metrics - 1)),
    contours,
  };
}

/** A contour as path text: "M x y", then "L x y" and "Q cx cy x y" (y down, font units), closed by Z. */
function contourPath(points: [number, number, boolean][]): string {
  const n = points.length;
  const mid = (a: [number, number, boolean], b: [number, number, boolean]): [number, number, boolean] => [
    (a[0] + b[0]) / 2,
    (a[1] + b[1]) / 2,
    true,
  ];
  // Start on a point on the curve (between two off-curve points there is one implied at their middle).
  const startAt = points.findIndex((p) => p[2]);
  const start = startAt >= 0 ? points[startAt] : mid(points[n - 1], points[0]);
  const from = startAt >= 0 ? startAt : n - 1;
  const f = (v: number) => String(Math.round(v));
  const parts = [`M${f(start[0])} ${f(-start[1])}`];
  let control: [number, number, boolean] | null = null;
  for (let k = 1; k <= n; k++) {
    const p = k === n && startAt >= 0 ? start : points[(from + k) % n];
    if (!p[2]) {
      if (control) {
        const m = mid(control, p);
        parts.push(`Q${f(control[0])} ${f(-control[1])} ${f(m[0])} ${f(-m[1])}`);
      }
      control = p;
      continue;
    }
    parts.push(
      control ? `Q${f(control[0])} ${f(-control[1])} ${f(p[0])} ${f(-p[1])}` : `L${f(p[0])} ${f(-p[1])}`,
    );
    control = null;
  }
  if (control) parts.push(`Q${f(control[0])} ${f(-control[1])} ${f(start[0])} ${f(-start[1])}`);
  return parts.join("") + "Z";
}

/** One weight's metrics and glyphs as the generated module holds them. */
function weight(font: TrueType) {
  const glyphs: Record<string, [number, string]> = {};
  for (const ch of CHARS) {
    const g = font.glyphIndex(ch.codePointAt(0)!);
    if (!g) throw new Error(`the font has no glyph for ${JSON.stringify(ch)}`);
    glyphs[ch] = [font.advance(g), font.contours(g).map(contourPath).join("")];
  }
  return { unitsPerEm: font.unitsPerEm, ascender: font.ascender, descender: font.descender, glyphs };
}

if (import.meta.main) {
  const [regular, bold] = Deno.args.length === 2 ? Deno.args : DEFAULT_FILES;
  const fonts = {
    regular: weight(parseTrueType(await Deno.readFile(regular))),
    bold: weight(parseTrueType(await Deno.readFile(bold))),
  };
  const out = new URL("../shared/font_glyphs.ts", import.meta.url);
  await Deno.writeTextFile(
    out,
    `// Generated by cli/font_glyphs.ts from DejaVu Sans and DejaVu Sans Bold: do not edit.
//
// DejaVu fonts: Copyright (c) 2003 by Bitstream, Inc. All Rights Reserved. Bitstream Vera is a trademark of
// Bitstream, Inc. DejaVu changes are in the public domain. Licensed under the Bitstream Vera Fonts licence
// (https://dejavu-fonts.github.io/License.html): these outlines may be used, copied and modified, not sold
// by themselves, and a modified font may not be called Bitstream or Vera.

/** Glyph outlines (path text in font units, y down from the baseline) and advances, by character. */
export interface GlyphSet {
  unitsPerEm: number;
  ascender: number;
  descender: number;
  glyphs: Record<string, [advance: number, path: string]>;
}

/** DejaVu Sans, regular and bold. */
export const FONT_GLYPHS: { regular: GlyphSet; bold: GlyphSet } = ${JSON.stringify(fonts)};
`,
  );
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", out.pathname] }).output();
  console.log(
    `wrote ${out.pathname} (${(await Deno.stat(out)).size} bytes, ${CHARS.length} characters, 2 weights)`,
  );
}
