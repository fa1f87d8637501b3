"""Shared fixtures. Tests run on 2 shared cores: one torch thread, tiny networks, tiny generated clips."""

import torch

torch.set_num_threads(1)
