"""Installed as tpstvsr_cli.default_weights: the default release weights travel inside the package."""
