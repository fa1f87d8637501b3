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


def test_default_weights_load():
    from tpstvsr_cli.models.release import default_weights_path, load_model

    path = default_weights_path()
    # The weights are tracked in git, so a missing file means the lookup is wrong, not that the checkout lacks them.
    assert path.is_file(), f"default weights not found at {path}"
    model, meta = load_model()
    assert meta["preset"] in {"default", "paper", "tiny"} and sum(p.numel() for p in model.parameters()) > 0


def test_source_checkout_fallback_is_the_top_level_weights_folder(monkeypatch):
    import importlib.resources

    from tpstvsr_cli.models.release import DEFAULT_NAME, default_weights_path

    def no_installed_package(name):
        raise ModuleNotFoundError(name)

    # An editable or wheel install answers from tpstvsr_cli.default_weights; hide it to reach the fallback.
    monkeypatch.setattr(importlib.resources, "files", no_installed_package)
    path = default_weights_path()
    assert path == ROOT / "weights" / DEFAULT_NAME
    assert path.is_file()


def test_weights_found_from_a_checkout_on_pythonpath():
    """python -m tpstvsr_cli from a checkout that is not installed: PYTHONPATH=<checkout>, no editable finder
    (python -S skips the .pth files that install it; the site-packages folders are given for torch etc.)."""
    import os
    import site
    import subprocess
    import sys

    pythonpath = os.pathsep.join([str(ROOT), *site.getsitepackages()])
    code = "from tpstvsr_cli.models.release import default_weights_path as p; print(p())"
    env = {**os.environ, "PYTHONPATH": pythonpath}
    out = subprocess.run([sys.executable, "-S", "-c", code], env=env, capture_output=True, text=True, check=True)
    path = Path(out.stdout.strip())
    assert path == ROOT / "weights" / "tpstvsr-default.safetensors", out.stdout + out.stderr
    assert path.is_file()


def test_install_commands_name_the_checkout_not_an_index():
    """No index serves tpstvsr: an extra is installed as pip install ".[ray]" from a checkout (issue 20)."""
    texts = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "tpstvsr_cli").rglob("*.py")]
    wrong = [str(p.relative_to(ROOT)) for p in texts if 'install "tpstvsr[' in p.read_text(encoding="utf-8")]
    assert not wrong, f'say pip install ".[extra]" in: {wrong}'
