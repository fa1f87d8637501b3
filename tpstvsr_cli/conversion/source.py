"""A network per input for batch, as --source picks its weights (models/sources.py, judging the input for auto)."""

from collections.abc import Callable
from pathlib import Path

from ..models.sources import DEFAULT_SOURCE, WeightsChoice, check_source, check_weights_or_source, choose_weights


class ModelPicker:
    """A network per input, as --source chooses (batch: one film may be clean, the next compressed); each weights
    file is loaded once by `load(path)`."""

    def __init__(self, source: str | None, weights: Path | None, load: Callable[[Path | None], object], say=None):
        self.source, self.weights, self.load, self.say = source, weights, load, say
        self.models: dict = {}
        check_weights_or_source(source, weights)
        check_source(source or DEFAULT_SOURCE)

    def for_input(self, path: Path) -> tuple[object, WeightsChoice]:
        choice = choose_weights(self.source, self.weights, path)
        if self.say is not None and choice.source is not None:
            self.say(f"{Path(path).name}: {choice.source} weights ({choice.reason})")
        if choice.weights not in self.models:
            self.models[choice.weights] = self.load(choice.weights)
        return self.models[choice.weights], choice
