"""Draw the confusion matrix from `deno task eval --json` as a PNG (PIL only)."""

import argparse
import json
import sys

from PIL import Image, ImageDraw, ImageFont


def render(report, title):
    """Row-normalised heatmap with counts and recall per cell."""
    labels = list(report["perClass"].keys())
    matrix = report["confusion"]
    n = len(labels)
    cell, left, top = 78, 110, 70
    font = ImageFont.load_default()
    image = Image.new("RGB", (left + n * cell + 20, top + n * cell + 60), "white")
    draw = ImageDraw.Draw(image)
    draw.text((10, 10), title, fill="black", font=font)
    subtitle = (
        f"accuracy {100 * report['accuracy']:.2f}%   mean class recall {100 * report['meanRecall']:.2f}%   "
        f"macro-F1 {100 * report['macroF1']:.2f}%   n={report['count']}"
    )
    draw.text((10, 28), subtitle, fill="black", font=font)
    draw.text((left, top - 16), "predicted ->", fill="gray", font=font)
    for i, row in enumerate(matrix):
        total = max(1, sum(row))
        draw.text((8, top + i * cell + cell // 2 - 6), labels[i], fill="black", font=font)
        draw.text((left + i * cell + 6, top + n * cell + 6), labels[i][:11], fill="black", font=font)
        for j, count in enumerate(row):
            share = count / total
            shade = int(255 - 200 * share)
            box = [left + j * cell, top + i * cell, left + (j + 1) * cell - 2, top + (i + 1) * cell - 2]
            draw.rectangle(box, fill=(shade, shade, 255))
            ink = "white" if share > 0.5 else "black"
            draw.text((box[0] + 6, box[1] + 24), f"{count}", fill=ink, font=font)
            draw.text((box[0] + 6, box[1] + 40), f"{100 * share:.1f}%", fill=ink, font=font)
    draw.text((8, top + n * cell + 30), "rows: true class (shares are of the row)", fill="gray", font=font)
    return image


def main(argv=None):
    """Read an eval JSON report, write the PNG."""
    p = argparse.ArgumentParser(description="Render a confusion matrix PNG from an eval --json report.")
    p.add_argument("report", help="JSON written by `deno task eval --json`")
    p.add_argument("out", help="PNG to write")
    p.add_argument("--title", default="Mien expression model: FER+ test confusion matrix")
    args = p.parse_args(argv)
    try:
        with open(args.report) as handle:
            report = json.load(handle)
        render(report, args.title).save(args.out)
    except (OSError, KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
