#!/usr/bin/env python3
"""Turn frame-interpolation triplets into 3-frame sequences that `tpstvsr eval` scores (a held-out set).

../shared/data/val/vfi_triplets holds davis/{input/<scene>/frame10.png, frame11.png; gt/<scene>/frame10i11.png}
and ucf101/<n>/{frame0, frame1, frame2}.png (frame1 the middle one). Each becomes a folder of symbolic links
00000.png (first), 00001.png (middle, the interpolated frame), 00002.png (last), outside the repository:
    python scripts/triplet_sequences.py ../shared/data/val/vfi_triplets /tmp/triplets
    tpstvsr eval /tmp/triplets/* --json
"""

import sys
from pathlib import Path


def main(root: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    made = 0
    for scene in sorted((root / "davis" / "gt").iterdir()):
        frames = [
            root / "davis" / "input" / scene.name / "frame10.png",
            scene / "frame10i11.png",
            root / "davis" / "input" / scene.name / "frame11.png",
        ]
        made += _link(out / f"davis_{scene.name}", frames)
    for scene in sorted((root / "ucf101").iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else 0):
        made += _link(out / f"ucf101_{scene.name}", [scene / f"frame{i}.png" for i in range(3)])
    print(f"{made} sequences in {out}")


def _link(folder: Path, frames: list[Path]) -> int:
    if not all(f.is_file() for f in frames):
        return 0
    folder.mkdir(exist_ok=True)
    for i, f in enumerate(frames):
        link = folder / f"{i:05d}.png"
        if not link.exists():
            link.symlink_to(f.resolve())
    return 1


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
