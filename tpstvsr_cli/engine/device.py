"""--device and --precision, resolved once: where the network runs and in what precision."""

from dataclasses import dataclass

import torch

from ..errors import TpstvsrError

PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
_PRECISION_NAMES = {dtype: name for name, dtype in PRECISIONS.items()}


@dataclass(frozen=True)
class Compute:
    """Where and in what precision the network runs, as decided from --device and --precision."""

    device: torch.device
    dtype: torch.dtype
    precision: str  # fp32, fp16 or bf16: what the engine is given
    note: str = ""  # why the precision asked for is not used (a one-line warning), or ""

    @property
    def weights_dtype(self) -> torch.dtype:
        """Half precision on a GPU: convert the weights (faster than autocast). On the CPU keep fp32 weights
        and let autocast run bf16 where asked."""
        return self.dtype if self.device.type == "cuda" else torch.float32


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' picks the first CUDA GPU when there is one; 'cuda' / 'cuda:N' must exist."""
    name = str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise TpstvsrError(f"unknown device {device!r} (use auto, cpu, cuda or cuda:N)") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise TpstvsrError(f"device {device!r} asked for, but this torch build sees no CUDA GPU")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise TpstvsrError(f"device {device!r} does not exist ({torch.cuda.device_count()} CUDA GPU(s))")
    elif dev.type != "cpu":
        raise TpstvsrError(f"unsupported device {device!r} (use auto, cpu, cuda or cuda:N)")
    return dev


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """'auto' is fp16 on a GPU (bf16 where supported); on the CPU bf16 where it has bf16 instructions (oneDNN
    then runs the convolutions in bf16, all else stays float32: docs/converter.md has the speed and val dB),
    else fp32, as emulated half precision is slower."""
    name = str(precision).strip().lower()
    if name == "auto":
        if device.type != "cuda":
            return torch.bfloat16 if cpu_runs_bf16() else torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if name not in PRECISIONS:
        raise TpstvsrError(f"unknown precision {precision!r} (use auto, fp32, fp16 or bf16)")
    return PRECISIONS[name]


def cpu_runs_bf16() -> bool:
    """The CPU has bf16 instructions (AVX512-BF16 / AMX) that oneDNN uses; without them bf16 is emulated."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def fit_precision(dev: torch.device, dtype: torch.dtype, asked: str) -> Compute:
    """Half precision only where it runs well: on the CPU fp16 is slower than fp32, and bf16 is emulated without
    bf16 instructions (measurements: docs/converter.md); both fall back to fp32, with a one-line reason."""
    if dev.type != "cpu" or dtype == torch.float32 or (dtype == torch.bfloat16 and cpu_runs_bf16()):
        return Compute(dev, dtype, _PRECISION_NAMES[dtype])
    why = (
        "is slower than fp32 on the CPU (and less exact)"
        if dtype == torch.float16
        else "would be emulated on this CPU (no AVX512-BF16 or AMX), many times slower than fp32"
    )
    return Compute(dev, torch.float32, "fp32", f"--precision {asked} {why}; using fp32")


def resolve_compute(device: str | torch.device = "auto", precision: str = "auto") -> Compute:
    """--device and --precision -> a Compute; half precision the CPU runs badly becomes fp32 with a note."""
    dev = resolve_device(device)
    return fit_precision(dev, resolve_precision(precision, dev), precision)
