#!/usr/bin/env python3
"""Draw Tongxin's app icons into public/icons/ (standard library only: zlib + struct, no PIL).

The design is the name: 同心, "one heart / concentric" — two concentric golden rings and a centre
dot on Tongxin red. `icon-maskable-512.png` is full-bleed with the drawing inside the central 80%
safe zone, as the maskable-icon spec asks. Run from anywhere: python3 xtask/scripts/make_icons.py
"""
import math
import os
import struct
import zlib

RED = (0xB7, 0x1C, 0x1C)
GOLD = (0xFF, 0xD5, 0x4F)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "public", "icons")


def coverage(distance):
    """Anti-aliased coverage of a pixel whose centre is `distance` px inside (+) an edge."""
    return max(0.0, min(1.0, distance + 0.5))


def draw(size, maskable):
    c = size / 2.0
    # Drawing radius: the whole icon for "any", the 80% safe zone (radius 0.4) for maskable.
    r = size * (0.40 if maskable else 0.47)
    corner = 0.0 if maskable else size * 0.22
    rings = [(0.92, 0.78), (0.60, 0.46)]  # (outer, inner) radii as fractions of r
    dot = 0.22
    rows = []
    for y in range(size):
        row = bytearray([0])  # PNG filter type 0
        py = y + 0.5
        for x in range(size):
            px = x + 0.5
            # Background: rounded square (or full bleed).
            if corner:
                qx = max(abs(px - c) - (c - corner), 0.0)
                qy = max(abs(py - c) - (c - corner), 0.0)
                bg = coverage(corner - math.hypot(qx, qy))
            else:
                bg = 1.0
            d = math.hypot(px - c, py - c)
            fg = coverage(dot * r - d)
            for outer, inner in rings:
                fg = max(fg, min(coverage(outer * r - d), coverage(d - inner * r)))
            rgb = [round(RED[i] + (GOLD[i] - RED[i]) * fg) for i in range(3)]
            row += bytes(rgb + [round(255 * bg)])
        rows.append(bytes(row))
    return png(size, size, b"".join(rows))


def png(width, height, raw):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, size, maskable in [("icon-192.png", 192, False), ("icon-512.png", 512, False),
                                 ("icon-maskable-512.png", 512, True)]:
        path = os.path.join(OUT, name)
        with open(path, "wb") as f:
            f.write(draw(size, maskable))
        print(f"{os.path.normpath(path)}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
