"""The temporal-profile STVSR network (TPSRM -> FSM -> RM), its presets, its release weights (release.py) and the
one way to get a model on a device (loading.get_model)."""

from .loading import get_model
from .presets import PRESETS, NetConfig, build_model
from .tpnet import TPNet

__all__ = ["PRESETS", "NetConfig", "TPNet", "build_model", "get_model"]
