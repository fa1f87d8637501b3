#!/usr/bin/env python3
"""Issue 3's done-when check on a finished conversion: 4x size, 2x rate, same duration within one frame, audio.

    python scripts/check_conversion.py ../shared/data/smoke/bigbuckbunny.mp4 bbb_x4.mp4
Exits 1 when a check fails. Counts the output's frames by decoding it with the bundled ffmpeg.
"""

import re
import subprocess
import sys

from tpstvsr_cli.media.probe import ffmpeg_exe, probe


def main(source: str, output: str) -> int:
    a, b = probe(source), probe(output)
    decoded = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-i", output, "-map", "0:v:0", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    frames = int(re.findall(r"frame=\s*(\d+)", decoded)[-1])
    checks = {
        f"4x size ({a.width}x{a.height} -> {b.width}x{b.height})": (b.width, b.height) == (4 * a.width, 4 * a.height),
        f"2x rate ({a.fps:g} -> {b.fps:g} fps)": abs(b.fps - 2 * a.fps) < 1e-6,
        f"duration within one frame ({a.duration} -> {b.duration} s)": abs(b.duration - a.duration) <= 1 / a.fps,
        f"audio kept ({a.audio_codecs} -> {b.audio_codecs})": bool(b.audio_codecs) == bool(a.audio_codecs),
        f"decodes: {frames} frames": frames > 0,
    }
    for what, ok in checks.items():
        print(("ok   " if ok else "FAIL ") + what)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
