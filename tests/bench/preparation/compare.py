#!/usr/bin/python3
"""Reads the outputs of bench_preparation and its anchors (FILE, TOTAL and PEAK_RSS_MIB
lines) and prints what run.sh needs.

  compare.py intersect A B            paths that both outputs prepared
  compare.py throughput ID P NAME A GOAL   RESULT line for images per second
  compare.py megapixels ID P NAME A GOAL   RESULT line for megapixels per second
  compare.py bytes ID P NAME A GOAL   RESULT line for total PNG bytes (smaller is better)
  compare.py memory ID P NAME A LIMIT RESULT line for peak RSS in MiB against LIMIT
"""
import sys


def read(path):
    files, peak = {}, None
    with open(path) as output:
        for line in output:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "FILE" and len(parts) >= 6 and parts[2] == "ok":
                files[parts[1]] = (float(parts[3]), float(parts[4]), int(parts[5]))
            elif parts[0] == "PEAK_RSS_MIB":
                peak = float(parts[1])
    return files, peak


def totals(files, paths):
    seconds = sum(files[p][1] for p in paths)
    megapixels = sum(files[p][0] for p in paths)
    png_bytes = sum(files[p][2] for p in paths)
    return seconds, megapixels, png_bytes


def common(platform, anchor):
    paths = sorted(set(platform) & set(anchor))
    if not paths:
        sys.exit("compare: the two runs prepared no file in common")
    return paths


def result(figure, platform, name, anchor, unit, ratio, goal, met):
    print(f"RESULT {figure} platform={platform:.4g} anchor={name}:{anchor:.4g} unit={unit} "
          f"ratio={ratio:.3g} goal={goal} {'MET' if met else 'MISSED'}")


def main():
    command = sys.argv[1]
    if command == "intersect":
        a, _ = read(sys.argv[2])
        b, _ = read(sys.argv[3])
        print("\n".join(common(a, b)))
        return
    figure, platform_path, name, anchor_path, goal = sys.argv[2:7]
    platform, platform_peak = read(platform_path)
    anchor, anchor_peak = read(anchor_path)
    if command == "memory":
        limit = float(goal)
        result(figure, platform_peak, name, anchor_peak, "MiB", platform_peak / anchor_peak,
               f"<{limit:g}MiB", platform_peak < limit)
        return
    paths = common(platform, anchor)
    p_seconds, p_megapixels, p_bytes = totals(platform, paths)
    a_seconds, a_megapixels, a_bytes = totals(anchor, paths)
    if command == "throughput":
        p, a = len(paths) / p_seconds, len(paths) / a_seconds
        result(figure, p, name, a, f"images/s({len(paths)}files)", p / a, f">={goal}x",
               p / a >= float(goal))
    elif command == "megapixels":
        p, a = p_megapixels / p_seconds, a_megapixels / a_seconds
        result(figure, p, name, a, "MP/s", p / a, f">={goal}x", p / a >= float(goal))
    elif command == "bytes":
        result(figure, p_bytes / 1e6, name, a_bytes / 1e6, f"MB({len(paths)}files)",
               p_bytes / a_bytes, f"<={goal}x", p_bytes / a_bytes <= float(goal))
    else:
        sys.exit(f"compare: unknown command {command}")


if __name__ == "__main__":
    main()
