"""The paper's losses (Eqs. 2, 4, 6-10). Clips are [B, T, 3, H, W] float 0..1."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..models.profiles import degrade_clip, resize_frames, to_horizontal_profiles, to_vertical_profiles


def l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (pred - target).abs().mean()


def tpsrm_target(gt: torch.Tensor) -> torch.Tensor:
    """Eq. 2's target: ground truth at 1/2 height and 1/4 width (antialiased bicubic), all 2T-1 frames."""
    h, w = gt.shape[-2:]
    return resize_frames(gt, (h // 2, w // 4))


def tpsrm_loss(inter: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """L1 between the super-resolved vertical TPs and those of the degraded ground truth."""
    return l1(to_vertical_profiles(inter), to_vertical_profiles(tpsrm_target(gt)))


def _gaussian_window(size: int = 11, sigma: float = 1.5, device=None, dtype=None) -> torch.Tensor:
    x = torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Mean SSIM (Wang et al. 2004: 11x11 Gaussian, sigma 1.5, 'valid' windows) over [N, C, H, W]."""
    c = a.shape[1]
    g = _gaussian_window(device=a.device, dtype=a.dtype)
    kh = g.view(1, 1, -1, 1).expand(c, 1, -1, 1)
    kw = g.view(1, 1, 1, -1).expand(c, 1, 1, -1)

    def blur(x):
        return F.conv2d(F.conv2d(x, kh, groups=c), kw, groups=c)

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return (num / den).mean()


def ssim_loss(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Eq. 7: 1 - SSIM over all frames."""
    return 1 - ssim(pred.flatten(0, 1), gt.flatten(0, 1))


def cycle_loss(out: torch.Tensor, lr: torch.Tensor) -> torch.Tensor:
    """Eq. 9: horizontal TPs of the output degraded (1/4 in space, 1/2 in time) against the input's."""
    return l1(to_horizontal_profiles(degrade_clip(out)), to_horizontal_profiles(lr))


class VGGLoss(nn.Module):
    """Eq. 8 on VGG-19 relu1_1, relu3_1, relu5_1 (the paper's layers j = 1, 3, 5), MSE per layer.

    The weights cannot be downloaded here: pass a torchvision-format VGG-19 state dict
    (keys 'features.N.weight') to train with this term; without one the term is left out.
    """

    _CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512]
    _TAPS = (1, 11, 29)  # indices in `features` of relu1_1, relu3_1, relu5_1

    def __init__(self, state_dict: dict):
        super().__init__()
        layers, cin = [], 3
        for v in self._CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=False)]
                cin = v
        self.features = nn.Sequential(*layers)
        own = {k: v for k, v in state_dict.items() if k.startswith("features.") and k in self.state_dict()}
        self.load_state_dict(own, strict=True)
        self.requires_grad_(False)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        x = (torch.cat([pred.flatten(0, 1), gt.flatten(0, 1)]) - self.mean) / self.std
        loss = x.new_zeros(())
        for i, layer in enumerate(self.features[: self._TAPS[-1] + 1]):
            x = layer(x)
            if i in self._TAPS:
                a, b = x.chunk(2)
                loss = loss + F.mse_loss(a, b)
        return loss


def joint_loss(
    out, gt, lr, vgg: VGGLoss | None = None, w_ssim=0.1, w_vgg=0.01, w_cycle=1.0
) -> tuple[torch.Tensor, dict]:
    """Eq. 10: L1 + 0.1 SSIM + 0.01 VGG + 1.0 cycle; returns the total and each term for logging."""
    terms = {"l1": l1(out, gt), "ssim": ssim_loss(out, gt), "cycle": cycle_loss(out, lr)}
    total = terms["l1"] + w_ssim * terms["ssim"] + w_cycle * terms["cycle"]
    if vgg is not None:
        terms["vgg"] = vgg(out, gt)
        total = total + w_vgg * terms["vgg"]
    return total, {k: float(v.detach()) for k, v in terms.items()}
