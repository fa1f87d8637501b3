"""Weights with a module trained apart: a base network's weights plus a trained restore or refine module.

    python scripts/attach_module.py weights/tpstvsr-default.safetensors restore runs/restore/r1/restore.pt OUT \\
        --preset compressed-restore
    python scripts/attach_module.py weights/tpstvsr-compressed.safetensors refine runs/refine/refine.pt OUT
The base file's network weights (any preset with the same sizes) and the module's weights (scripts/train_restore.py,
scripts/train_output_refine.py) go into one fp16 safetensors of the preset --preset (default: compressed); the
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
    ap.add_argument("module", choices=("restore", "refine"))
    ap.add_argument("weights", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--preset", default="compressed")
    args = ap.parse_args()
    base, meta = load_model(args.base)
    model = build_model(args.preset)
    if getattr(model, args.module) is None:
        raise SystemExit(f"preset {args.preset} has no {args.module} module")
    # the base's network, strictly but for the module (zero-started), then the trained module
    prefix = f"{args.module}."
    load_state(model, {k: v for k, v in base.state_dict().items() if not k.startswith(prefix)})
    getattr(model, args.module).load_state_dict(torch.load(args.weights))
    extra = {k: v for k, v in meta.items() if k not in ("preset", "format_version")}
    extra.update(network_from=args.base.name, **{f"{args.module}_from": str(args.weights)})
    save_release(model, args.preset, args.out, extra)
    print(f"wrote {args.out}: preset {args.preset}, network of {args.base.name}, {args.module} of {args.weights}")


if __name__ == "__main__":
    main()
