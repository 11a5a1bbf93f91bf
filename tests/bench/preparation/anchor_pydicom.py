#!/usr/bin/python3
"""Anchor of the preparation benchmark: the same steps as bench_preparation with
pydicom, NumPy and Pillow (and python3-gdcm, which pydicom uses for JPEG-LS, JPEG
lossless and 12-bit JPEG when it is installed).

Reads DICOM paths from standard input, one per line. For each file it decodes the first
frame and applies the Modality LUT or rescale. It then applies the file's first window or
VOI LUT (else the frame's minimum and maximum), inverts MONOCHROME1, scales to 8 bits and
writes a PNG at the requested zlib level (and, with --png-strategy rle, zlib's
Z_RLE strategy, which the platform uses at levels 1 to 6). Unless --no-array, it also
resizes the display image to fit --array-size (longer side, aspect kept, padded with 0)
and writes it as a float32 .npy file in memory. Colour images are reduced to luma.

Seconds are CPU seconds of the process (user and system), as bench_preparation measures
them, or elapsed seconds with --wall. Prints the same lines as bench_preparation:
"FILE <path> ok <megapixels> <seconds> <png bytes>" or "FILE <path> error <exception>",
then TOTAL and PEAK_RSS_MIB.
"""
import argparse
import io
import resource
import sys
import time
import warnings

import numpy as np
import pydicom
from PIL import Image
from pydicom.pixel_data_handlers.util import apply_modality_lut, apply_voi_lut, convert_color_space

warnings.filterwarnings("ignore")


def prepare(path, png_level, array_size, with_array, png_strategy):
    dataset = pydicom.dcmread(path)
    pixels = dataset.pixel_array
    frames = int(getattr(dataset, "NumberOfFrames", 1) or 1)
    samples = int(getattr(dataset, "SamplesPerPixel", 1) or 1)
    if frames > 1:
        pixels = pixels[0]
    photometric = str(getattr(dataset, "PhotometricInterpretation", "MONOCHROME2"))
    if samples == 3:
        if photometric.startswith("YBR"):
            pixels = convert_color_space(pixels, photometric, "RGB")
        rgb = pixels.astype(np.float32)
        values = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
        low, high = 0.0, float(2 ** int(dataset.BitsStored) - 1)
        display = np.clip((values - low) / (high - low), 0.0, 1.0)
    else:
        values = apply_modality_lut(pixels, dataset).astype(np.float32)
        if "WindowCenter" in dataset or "VOILUTSequence" in dataset:
            windowed = apply_voi_lut(values, dataset, index=0).astype(np.float32)
            if "VOILUTSequence" in dataset and "WindowCenter" not in dataset:
                bits = int(dataset.VOILUTSequence[0].LUTDescriptor[2])
                display = windowed / float(2 ** bits - 1)
            else:
                low, high = float(windowed.min()), float(windowed.max())
                # apply_voi_lut maps a window onto the range of the stored values.
                span = high - low if high > low else 1.0
                display = (windowed - low) / span
        else:
            low, high = float(values.min()), float(values.max())
            span = high - low if high > low else 1.0
            display = (values - low) / span
        display = np.clip(display, 0.0, 1.0)
        if photometric == "MONOCHROME1":
            display = 1.0 - display
    display8 = np.rint(display * 255.0).astype(np.uint8)
    png = io.BytesIO()
    Image.fromarray(display8).save(png, "PNG", compress_level=png_level,
                                   compress_type=png_strategy)
    if with_array:
        rows, columns = display.shape
        scale = array_size / max(rows, columns)
        size = (max(1, round(columns * scale)), max(1, round(rows * scale)))
        resized = np.asarray(Image.fromarray(display.astype(np.float32), mode="F").resize(
            size, Image.BILINEAR))
        array = np.zeros((array_size, array_size), dtype=np.float32)
        array[: resized.shape[0], : resized.shape[1]] = resized
        np.save(io.BytesIO(), array)
    return display.shape[0] * display.shape[1] / 1e6, len(png.getvalue())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png-level", type=int, default=6, help="zlib level of the PNG, 0 to 9")
    parser.add_argument("--array-size", type=int, default=256, help="side of the array, pixels")
    parser.add_argument("--no-array", action="store_true", help="skip the model-input array")
    parser.add_argument("--png-strategy", choices=["default", "rle"], default="default",
                        help="zlib strategy of the PNG: Pillow's default or Z_RLE")
    parser.add_argument("--repeat", type=int, default=1, help="runs per file; the best counts")
    parser.add_argument("--wall", action="store_true",
                        help="measure elapsed seconds instead of the process's CPU seconds")
    args = parser.parse_args()
    strategy = 3 if args.png_strategy == "rle" else -1  # zlib's Z_RLE is 3
    clock = time.perf_counter if args.wall else time.process_time
    ok, total_seconds, total_megapixels, total_png = 0, 0.0, 0.0, 0
    for line in sys.stdin:
        path = line.strip()
        if not path:
            continue
        best = None
        try:
            for _ in range(max(1, args.repeat)):
                start = clock()
                megapixels, png_bytes = prepare(path, args.png_level, args.array_size,
                                                not args.no_array, strategy)
                seconds = clock() - start
                best = seconds if best is None else min(best, seconds)
        except Exception as error:  # every decoder failure is reported, not raised
            print(f"FILE {path} error {type(error).__name__}")
            continue
        ok += 1
        total_seconds += best
        total_megapixels += megapixels
        total_png += png_bytes
        print(f"FILE {path} ok {megapixels} {best} {png_bytes}")
    print(f"TOTAL {ok} {total_seconds} {total_megapixels} {total_png}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"PEAK_RSS_MIB {peak}")


if __name__ == "__main__":
    main()
