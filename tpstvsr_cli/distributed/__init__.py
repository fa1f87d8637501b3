"""Conversions spread over machines: `tpstvsr batch --engine ray` (ray_engine.py coordinates, worker.py runs on
the workers). Ray is imported only here, and only when that engine runs: `pip install ".[ray]"` in the checkout."""
