#!/usr/bin/env python3
# png-diff.py SHOT REFERENCE [--update [--height ROWS]] [--diff OUT.png] [--tolerance FRACTION]
#
# Compares a screenshot with a reviewed reference (tests/integration/html.sh): the reference's
# rows from the top of the screenshot (a reference may be cropped, to leave out what another
# module draws), pixel by pixel; a pixel differs when a channel differs by more than 48 of 255.
# Exit 0 when at most FRACTION (default 0.004) of the pixels differ, 1 otherwise (with OUT.png
# showing the differing pixels in red), 2 on a malformed file.  --update writes the screenshot,
# cropped to the reference's height (to ROWS when there is none yet, else whole), as the new
# reference: look at it before committing it.
#
# Only python3's zlib: PNG of 8-bit greyscale, RGB or RGBA, non-interlaced (what Chromium
# writes), with the five row filters of the PNG specification.
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s: not a PNG" % path)
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or interlace or ctype not in (0, 2, 6):
        raise ValueError("%s: PNG kind not handled (depth %d, colour %d, interlace %d)"
                         % (path, depth, ctype, interlace))
    bpp = {0: 1, 2: 3, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    if len(raw) != (stride + 1) * h:
        raise ValueError("%s: truncated image data" % path)
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif f != 0:
            raise ValueError("%s: bad filter %d on row %d" % (path, f, y))
        # As RGB, whatever the kind.
        if bpp == 1:
            rgb = bytearray(x for v in line for x in (v, v, v))
        elif bpp == 4:
            rgb = bytearray(v for i, v in enumerate(line) if i % 4 != 3)
        else:
            rgb = bytearray(line)
        rows.append(rgb)
        prev = line
    return w, h, rows


def write_png(path, w, rows):
    raw = b"".join(b"\x00" + bytes(r) for r in rows)

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, len(rows), 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def main(argv):
    args = argv[1:]
    update = "--update" in args
    diff_out, tol = None, 0.004
    if "--diff" in args:
        diff_out = args[args.index("--diff") + 1]
    if "--tolerance" in args:
        tol = float(args[args.index("--tolerance") + 1])
    shot, ref = args[0], args[1]
    try:
        sw, sh, srows = read_png(shot)
    except (ValueError, OSError, zlib.error, struct.error) as e:
        print(e)
        return 2
    try:
        rw, rh, rrows = read_png(ref)
    except OSError:
        if not update:
            print("%s: no reference (make one with HTML_UPDATE_REFERENCES=1)" % ref)
            return 1
        rh = int(args[args.index("--height") + 1]) if "--height" in args else sh
        rw, rrows = sw, None
    except (ValueError, zlib.error, struct.error) as e:
        print(e)
        return 2
    if update:
        write_png(ref, sw, srows[:min(rh, sh)])
        print("%s: written from %s (%dx%d)" % (ref, shot, sw, min(rh, sh)))
        return 0
    if sw != rw or sh < rh:
        print("%dx%d screenshot, %dx%d reference" % (sw, sh, rw, rh))
        return 1
    differ, total, out = 0, rw * rh, []
    for y in range(rh):
        a, b = srows[y], rrows[y]
        line = bytearray(a)
        for x in range(0, rw * 3, 3):
            if (abs(a[x] - b[x]) > 48 or abs(a[x + 1] - b[x + 1]) > 48 or
                    abs(a[x + 2] - b[x + 2]) > 48):
                differ += 1
                line[x:x + 3] = b"\xff\x00\x00"
        out.append(line)
    frac = differ / total
    print("%d of %d pixels differ (%.3f %%, at most %.3f %%)" % (differ, total, 100 * frac,
                                                               100 * tol))
    if frac > tol:
        if diff_out:
            write_png(diff_out, rw, out)
            print("the differing pixels in red: %s" % diff_out)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
