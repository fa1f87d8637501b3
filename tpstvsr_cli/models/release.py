"""Release weights: half-precision safetensors with the preset name and a format version in the header."""

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import TpstvsrError
from . import PRESETS, TPNet, build_model

FORMAT_VERSION = "1"
DEFAULT_NAME = "tpstvsr-default.safetensors"


def default_weights_path() -> Path:
    """Installed: the package tpstvsr_cli.default_weights (mapped from weights/); source checkout (not installed,
    e.g. PYTHONPATH=checkout python -m tpstvsr_cli): the checkout's top-level weights/ folder."""
    try:
        from importlib.resources import files

        installed = Path(str(files("tpstvsr_cli.default_weights") / DEFAULT_NAME))
        if installed.is_file():
            return installed
    except (ModuleNotFoundError, TypeError):  # a source checkout has no tpstvsr_cli.default_weights
        pass
    return source_checkout_root() / "weights" / DEFAULT_NAME


def source_checkout_root() -> Path:
    """The repository root when running from a checkout: this file is <root>/tpstvsr_cli/models/release.py."""
    return Path(__file__).resolve().parents[2]


def save_release(model: TPNet, preset: str, path: Path, extra: dict | None = None) -> None:
    """Store the model's parameters as fp16 with metadata {preset, version, ...}."""
    state = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in model.state_dict().items()}
    meta = {"preset": preset, "format_version": FORMAT_VERSION}
    meta.update({k: str(v) if not isinstance(v, (dict, list)) else json.dumps(v) for k, v in (extra or {}).items()})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    save_file(state, str(tmp), metadata=meta)
    tmp.replace(path)


def read_metadata(path: Path) -> dict:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError) as exc:
        raise TpstvsrError(f"not a valid weights file: {path} ({exc})") from None


def load_model(
    path: Path | None = None, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
) -> tuple[TPNet, dict]:
    """Build the preset named in the file and load its weights; errors name the file and the problem."""
    path = Path(path) if path is not None else default_weights_path()
    if not path.is_file():
        raise TpstvsrError(f"weights file not found: {path}")
    meta = read_metadata(path)
    preset = meta.get("preset")
    if preset not in PRESETS:
        raise TpstvsrError(f"weights file {path} names an unknown preset: {preset!r}")
    model = build_model(preset)
    try:
        state = load_file(str(path))
        load_state(model, {k: v.float() for k, v in state.items()})
    except (SafetensorError, RuntimeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise TpstvsrError(f"weights file {path} does not fit preset {preset!r}: {first}") from None
    return model.to(device=device, dtype=dtype).eval(), meta


def load_state(model: TPNet, state: dict) -> None:
    """load_state_dict, strict except that parameters of modules which start at zero (TPNet.zero_start_prefixes,
    e.g. a KeyFusion added to a preset after its weights were trained) may be missing: they keep their start."""
    missing, unexpected = model.load_state_dict(state, strict=False)
    allowed = getattr(model, "zero_start_prefixes", ())
    missing = [k for k in missing if not k.startswith(allowed)]
    if missing or unexpected:
        raise RuntimeError(f"missing keys {missing[:3]}, unexpected keys {unexpected[:3]}")
