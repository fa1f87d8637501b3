"""The wheel carries every subpackage and the default weights (pyproject lists packages explicitly)."""

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_listed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "tpstvsr_cli").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject.toml: {sorted(found - listed)}"
    assert "tpstvsr_cli.default_weights" in listed


def test_weights_folder_maps_into_the_package():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert cfg["package-dir"]["tpstvsr_cli.default_weights"] == "weights"
    assert "*.safetensors" in cfg["package-data"]["tpstvsr_cli.default_weights"]


def test_default_weights_load_when_present():
    import pytest

    from tpstvsr_cli.models.release import default_weights_path, load_model

    path = default_weights_path()
    if not path.is_file():
        pytest.skip("no default weights in this checkout")
    model, meta = load_model()
    assert meta["preset"] in {"default", "paper", "tiny"} and sum(p.numel() for p in model.parameters()) > 0
