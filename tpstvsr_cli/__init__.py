"""tpstvsr: space-time video super-resolution with temporal profiles (Xiao et al., ACM MM 2020)."""

__version__ = "0.1.0"
