"""--quality fast|balanced|best: three speeds of one set of weights, chosen after the network is loaded.

No other weights: `fast` leaves out the parameter-free parts of the default network (the key frames' neighbour
fusion over dense optical flow, the in-between frames' midpoint vote: everything that needs optical flow);
`best` adds the transpose ensemble (engine/ensemble.py: the temporal profiles then follow
horizontal motion too). A preset without those parts (paper, a weights file of one) runs `fast` as `balanced`,
with a note. The measured speeds and dB of each level: README ("--quality").
"""

import copy
from dataclasses import dataclass

from ..errors import TpstvsrError


@dataclass(frozen=True)
class Quality:  # what each level means in words: --quality's help (cli/options.py) and README
    neighbour_fusion: bool  # keep the key frames' neighbour fusion (TPNet.neighbours)
    vote: bool  # keep the in-between frames' midpoint vote (KeyframeInterp.vote)
    ensemble: int | None  # the --ensemble it implies when none is given (None: --ensemble's default, 1)


QUALITIES: dict[str, Quality] = {
    "fast": Quality(neighbour_fusion=False, vote=False, ensemble=None),
    "balanced": Quality(neighbour_fusion=True, vote=True, ensemble=None),
    "best": Quality(neighbour_fusion=True, vote=True, ensemble=2),
}
DEFAULT_QUALITY = "balanced"


def check_quality(name: str) -> str:
    if name not in QUALITIES:
        raise TpstvsrError(f"--quality must be one of {', '.join(QUALITIES)}, got {name!r}")
    return name


def quality_ensemble(name: str, ensemble: int | None = None) -> int:
    """The --ensemble to run: the one given, else the quality's (best: 2), else 1."""
    if ensemble is not None:
        return ensemble
    return QUALITIES[check_quality(name)].ensemble or 1


def _shallow(module):
    """A copy of `module` sharing its parameters, whose own submodules can be swapped without touching the
    original (copy.copy alone would share the dict of submodules)."""
    twin = copy.copy(module)
    twin._modules = dict(module._modules)
    return twin


def apply_quality(model, name: str) -> tuple[object, str | None]:
    """(the network to run at quality `name`, a note or None). The model given is never changed: a worker or a
    batch keeps one loaded network for films of any quality, and `fast` shares its weights."""
    quality = QUALITIES[check_quality(name)]
    interp = getattr(model, "interp", None)
    drop_fusion = not quality.neighbour_fusion and getattr(model, "neighbours", None) is not None
    drop_vote = not quality.vote and bool(getattr(interp, "vote", False))
    if not (drop_fusion or drop_vote):
        if quality.neighbour_fusion and quality.vote:
            return model, None
        return model, (
            f"--quality {name}: this network has no neighbour fusion or midpoint vote to leave out; it runs as balanced"
        )
    lighter = _shallow(model)
    if drop_fusion:
        lighter.neighbours = None
    if drop_vote:
        lighter.interp = _shallow(interp)
        lighter.interp.vote = False
    return lighter, None
