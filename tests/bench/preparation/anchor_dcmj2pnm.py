#!/usr/bin/python3
"""Anchor of the preparation benchmark: DCMTK's dcmj2pnm, one process per file, as a
hospital script would call it. Reads DICOM paths from standard input and writes each
first frame as an 8-bit PNG with libpng's default compression (zlib level 6). The VOI
choice is the one of the platform's automatic preset. That is the file's first window
(+Wi 1), else its first VOI LUT (+Wl 1), else the minimum and maximum (+Wm). It makes no
model-input array, so compare it with `bench_preparation --no_array`.

Prints "FILE <path> ok <megapixels> <seconds> <png bytes>" or "FILE <path> error
dcmj2pnm" per file, then TOTAL, as bench_preparation does. Seconds are those of the
best of --repeat runs, process start included. They are the CPU seconds (user and
system) of the dcmj2pnm process, or elapsed seconds with --wall.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

VOI_CHOICES = (["+Wi", "1"], ["+Wl", "1"], ["+Wm"])


def cpu_seconds_of_children():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(path, voi, output, wall=False):
    """Runs dcmj2pnm once; returns whether it succeeded and the seconds it took."""
    clock = time.perf_counter if wall else cpu_seconds_of_children
    start = clock()
    result = subprocess.run(["dcmj2pnm", "--write-png", *voi, path, output],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return result.returncode == 0, clock() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per file; the best counts")
    parser.add_argument("--wall", action="store_true",
                        help="measure elapsed seconds instead of the CPU seconds of dcmj2pnm")
    args = parser.parse_args()
    ok, total_seconds, total_megapixels, total_png = 0, 0.0, 0.0, 0
    with tempfile.TemporaryDirectory() as folder:
        output = os.path.join(folder, "out.png")
        for line in sys.stdin:
            path = line.strip()
            if not path:
                continue
            # The first VOI option that dcmj2pnm accepts for this file.
            voi = None
            for choice in VOI_CHOICES:
                if run(path, choice, output)[0]:
                    voi = choice
                    break
            if voi is None:
                print(f"FILE {path} error dcmj2pnm")
                continue
            best = min(run(path, voi, output, args.wall)[1] for _ in range(max(1, args.repeat)))
            with open(output, "rb") as png:
                data = png.read()
            # IHDR: width and height are the first 8 bytes of its data, big endian.
            width = int.from_bytes(data[16:20], "big")
            height = int.from_bytes(data[20:24], "big")
            megapixels = width * height / 1e6
            ok += 1
            total_seconds += best
            total_megapixels += megapixels
            total_png += len(data)
            print(f"FILE {path} ok {megapixels} {best} {len(data)}")
    print(f"TOTAL {ok} {total_seconds} {total_megapixels} {total_png}")


if __name__ == "__main__":
    main()
