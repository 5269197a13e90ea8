#!/usr/bin/python3
"""What shrink-on-load does to the model input, on real photographs.

    /usr/bin/python3 bench/shrink_effect.py [--size 224] IMAGE...

Each photo (at least 380 pixels on its short side) is re-encoded as a quality-90 JPEG, then
prepared for a size×size model twice, as the Hugging Face processor does (Pillow BICUBIC
resize to size×size): from the full decode, and from a 1/2-scale DCT decode (Pillow's
Image.draft, which deft's decoder equals byte for byte: tests/unit/image_decode_test.cpp).
The photo is first scaled so that its 1/2-scale decode is r times the model input on the short
side, for several r; deft shrinks only where r ≥ 2 (`shrink_on_load`). Prints the PSNR (dB)
between the two model inputs per photo and r, and the median per r; and, for scale, the PSNR
that the quality-90 JPEG encoding itself costs the model input (column q90, at r = 1).

`make bench-shrink` runs it on the photographs shipped in Debian's python3-skimage package
(fetched with `apt-get download` and unpacked into /tmp/deft-bench, not installed).
"""
import argparse
import io
import statistics
from pathlib import Path

import numpy as np
from PIL import Image

RATIOS = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)


def model_input(jpeg, size, shrink):
    with Image.open(io.BytesIO(jpeg)) as im:
        if shrink > 1:
            im.draft("RGB", (im.width // shrink, im.height // shrink))
        return np.asarray(im.convert("RGB").resize((size, size), Image.BICUBIC), dtype=np.float64)


def lossless_input(photo, size):
    return np.asarray(photo.resize((size, size), Image.BICUBIC), dtype=np.float64)


def psnr(a, b):
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("images", nargs="+", type=Path)
    a = p.parse_args()
    per_ratio = {r: [] for r in RATIOS}
    q90 = []
    print("photo".ljust(24) + "".join(f"r={r:<6}" for r in RATIOS) + "q90")
    for path in a.images:
        try:
            photo = Image.open(path).convert("RGB")
        except OSError as e:
            print(f"{path.name}: skipped ({e})")
            continue
        if min(photo.size) < 380:
            continue
        row = []
        jpeg_cost = None
        for r in RATIOS:
            # Scale so that the 1/2 decode's short side is r × size (never upscale the photo).
            scale = min(1.0, 2 * r * a.size / min(photo.size))
            w, h = round(photo.width * scale), round(photo.height * scale)
            buf = io.BytesIO()
            photo.resize((w, h), Image.LANCZOS).save(buf, "JPEG", quality=90)
            actual_r = min(-(-w // 2), -(-h // 2)) / a.size
            if actual_r < r * 0.97:  # the photo is too small for this ratio
                row.append(None)
                continue
            full = model_input(buf.getvalue(), a.size, 1)
            value = psnr(full, model_input(buf.getvalue(), a.size, 2))
            if r == RATIOS[0]:
                jpeg_cost = psnr(lossless_input(photo.resize((w, h), Image.LANCZOS), a.size), full)
                q90.append(jpeg_cost)
            per_ratio[r].append(value)
            row.append(value)
        print(path.name[:23].ljust(24) +
              "".join(("-" if v is None else f"{v:.1f}").ljust(8) for v in row) +
              ("-" if jpeg_cost is None else f"{jpeg_cost:.1f}"))
    print("median".ljust(24) + "".join(
        (f"{statistics.median(v):.1f}" if v else "-").ljust(8) for v in per_ratio.values()) +
        (f"{statistics.median(q90):.1f}" if q90 else "-"))


if __name__ == "__main__":
    main()
