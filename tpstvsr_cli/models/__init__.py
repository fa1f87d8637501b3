"""The temporal-profile STVSR network (TPSRM -> FSM -> RM) and its presets."""

from .presets import PRESETS, NetConfig, build_model
from .tpnet import TPNet

__all__ = ["PRESETS", "NetConfig", "TPNet", "build_model"]
