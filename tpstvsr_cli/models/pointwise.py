"""A 1x1 convolution that gives the same numbers for any thread count on the CPU.

oneDNN's 1x1 convolution splits its sums differently for different thread counts (a 32-channel one at
128x96 differed by 1e-6 between 1 and 2 threads), and the parameter-free key-frame path amplifies such noise
(its flow is found on frames rounded to 8 bits): a conversion's frames then depended on the thread count, and a
Ray task (one thread) no longer matched the plain batch (issue 20). The same product as a matrix product over
the channels (channels-last: no copy) was bit-identical for 1, 2 and 3 threads, as 3x3 convolutions are. Same
parameters as nn.Conv2d(in, out, 1), so weights files load unchanged; other devices run the convolution.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Pointwise(nn.Conv2d):
    """nn.Conv2d(in_channels, out_channels, 1) computed as a matrix product over the channels on the CPU."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu":
            return super().forward(x)
        weight = self.weight.view(self.out_channels, self.in_channels)
        if x.shape[-2:] == (1, 1):  # channel attention on pooled statistics: a product this small is summed here,
            # as the matrix product's kernels for a few rows also depend on the thread count
            out = (x.flatten(1)[:, None, :] * weight.to(x.dtype)).sum(-1) + self.bias.to(x.dtype)
            return out[..., None, None]
        return F.linear(x.permute(0, 2, 3, 1), weight, self.bias).permute(0, 3, 1, 2)
