#!/usr/bin/python3
"""Image fixtures for deft's decoder tests, and Pillow's decoding of each as the reference.

    /usr/bin/python3 tests/data/generate_images.py tests/data/images

Writes one small image per format and mode (JPEG baseline/progressive/grey/CMYK/EXIF-rotated,
PNG RGB/RGBA/L/LA/P/P+transparency/1-bit/16-bit grey/16-bit RGB, WebP lossless/lossy,
TIFF RGB/CMYK/grey, GIF (2 frames), BMP 24-bit/8-bit palette) and, for each, `<name>.ppm`:
Image.open(f).convert("RGB") with Debian's Pillow — what the Hugging Face processors see.
The EXIF-rotated JPEGs (orientations 2–8) also get `<name>.exif.ppm`, from
ImageOps.exif_transpose. 16-bit grey is the one place deft differs on purpose (Pillow clips it to 255; deft keeps the
high byte), so its reference is written from the samples (value >> 8). `manifest.txt` lists
name, file, reference, and the EXIF-applied reference where there is one.
Shrink-on-load: two 301×203 JPEGs (baseline and progressive) decoded by Pillow at 1/2, 1/4
and 1/8 scale with Image.draft (libjpeg's DCT scaling), listed in `shrink_manifest.txt` as
name, scale, reference. Deterministic.
"""
import io
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

W, H = 37, 23


def pattern(seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W]
    base = np.stack([x * 255 / (W - 1), y * 255 / (H - 1), (x + y) * 255 / (W + H - 2)], -1)
    noise = rng.integers(-40, 40, size=(H, W, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def write_ppm(path, rgb):
    h, w, _ = rgb.shape
    path.write_bytes(b"P6\n%d %d\n255\n" % (w, h) + rgb.tobytes())


def png_16bit(samples, color_type):
    """A 16-bit PNG written by hand (Pillow cannot write 16-bit RGB)."""
    h, w = samples.shape[:2]
    raw = b"".join(b"\x00" + samples[r].astype(">u2").tobytes() for r in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) +
            chunk(b"IEND", b""))


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    rgb = Image.fromarray(pattern(1))
    alpha = Image.fromarray(pattern(2)[:, :, 0])
    rgba = rgb.copy()
    rgba.putalpha(alpha)
    grey = rgb.convert("L")
    files = {}

    def save(name, image, **kw):
        path = out / name
        image.save(path, **kw)
        files[name] = path

    save("rgb.jpg", rgb, quality=90)
    save("progressive.jpg", rgb, quality=85, progressive=True)
    save("grey.jpg", grey, quality=90)
    save("cmyk.jpg", rgb.convert("CMYK"), quality=95)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    save("exif_rotated.jpg", rgb, quality=90, exif=exif.tobytes())
    for orientation in (2, 3, 4, 5, 7, 8):  # the other turns and mirrors
        exif[0x0112] = orientation
        save(f"exif_{orientation}.jpg", rgb, quality=90, exif=exif.tobytes())
    save("rgb.png", rgb)
    save("rgba.png", rgba)
    save("grey.png", grey)
    save("grey_alpha.png", Image.merge("LA", [grey, alpha]))
    palette = rgb.quantize(colors=16, method=Image.Quantize.MEDIANCUT)
    save("palette.png", palette)
    save("palette_transparent.png", palette, transparency=3)
    save("bilevel.png", grey.convert("1"))
    save("lossless.webp", rgb, lossless=True)
    save("lossy.webp", rgb, quality=80)
    save("rgb.tiff", rgb)
    save("cmyk.tiff", rgb.convert("CMYK"))
    save("grey.tiff", grey)
    second = Image.fromarray(255 - pattern(3)).quantize(colors=32)
    save("animated.gif", rgb.quantize(colors=64), save_all=True, append_images=[second],
         duration=100)
    save("rgb.bmp", rgb)
    save("palette.bmp", palette)

    samples16 = pattern(4).astype(np.uint16) * 257 + np.arange(W, dtype=np.uint16)[None, :, None]
    (out / "rgb16.png").write_bytes(png_16bit(samples16, 2))
    files["rgb16.png"] = out / "rgb16.png"
    grey16 = samples16[:, :, 0]
    (out / "grey16.png").write_bytes(png_16bit(grey16, 0))

    manifest = []
    for name, path in files.items():
        with Image.open(path) as im:
            ref = np.asarray(im.convert("RGB"))
            write_ppm(out / (name + ".ppm"), ref)
            line = f"{name} {name}.ppm"
            if name.startswith("exif_"):
                write_ppm(out / (name + ".exif.ppm"), np.asarray(ImageOps.exif_transpose(im).convert("RGB")))
                line += f" {name}.exif.ppm"
            manifest.append(line)
    # 16-bit grey: the high byte of each sample, replicated (see the docstring).
    high = (grey16 >> 8).astype(np.uint8)
    write_ppm(out / "grey16.png.ppm", np.stack([high] * 3, -1))
    manifest.append("grey16.png grey16.png.ppm")
    (out / "manifest.txt").write_text("\n".join(manifest) + "\n")

    # Shrink-on-load references: Pillow's draft picks the largest scale that keeps the image at
    # least the requested size, so asking for (w // s, h // s) gives scale 1/s exactly.
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:203, 0:301] / 301
    big = np.stack([128 + 100 * np.sin(7 * x + 3 * y), 128 + 90 * np.cos(11 * y - 5 * x * y),
                    128 + 80 * np.sin(13 * np.hypot(x - 0.3, y - 0.4))], -1)
    big = Image.fromarray(np.clip(big + rng.normal(0, 12, big.shape), 0, 255).astype(np.uint8))
    shrink_manifest = []
    for name, kw in (("draft.jpg", {}), ("draft_progressive.jpg", {"progressive": True})):
        big.save(out / name, quality=88, **kw)
        for s in (2, 4, 8):
            with Image.open(out / name) as im:
                im.draft("RGB", (im.width // s, im.height // s))
                assert im.size == (-(-301 // s), -(-203 // s)), im.size
                write_ppm(out / f"{name}.s{s}.ppm", np.asarray(im.convert("RGB")))
            shrink_manifest.append(f"{name} {s} {name}.s{s}.ppm")
    (out / "shrink_manifest.txt").write_text("\n".join(shrink_manifest) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
