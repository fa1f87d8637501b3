"""Installed as tpstvsr_cli.weights: the default release weights travel inside the package."""
