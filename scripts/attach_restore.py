"""Weights for the compressed-restore preset: a base network's weights with a trained artifact removal.

    python scripts/attach_restore.py weights/tpstvsr-default.safetensors runs/restore/r1/restore.pt OUT.safetensors
The base file's network weights (any preset with the same sizes) and scripts/train_restore.py's module weights go
into one fp16 safetensors of the preset --preset (default: compressed-restore, an experiment of issue 21); the
header keeps the base's step and names both sources.
"""

import argparse
from pathlib import Path

import torch

from tpstvsr_cli.models.presets import build_model
from tpstvsr_cli.models.release import load_model, load_state, save_release


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", type=Path)
    ap.add_argument("restore", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--preset", default="compressed-restore")
    args = ap.parse_args()
    base, meta = load_model(args.base)
    model = build_model(args.preset)
    # the base's network, strictly but for the removal (a zero-start module), then the trained removal
    load_state(model, {k: v for k, v in base.state_dict().items() if not k.startswith("restore.")})
    model.restore.load_state_dict(torch.load(args.restore))
    extra = {k: v for k, v in meta.items() if k not in ("preset", "format_version")}
    extra.update(network_from=args.base.name, restore_from=str(args.restore))
    save_release(model, args.preset, args.out, extra)
    print(f"wrote {args.out}: preset {args.preset}, network of {args.base.name}, artifact removal of {args.restore}")


if __name__ == "__main__":
    main()
