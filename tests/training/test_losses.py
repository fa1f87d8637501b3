import torch

from tpstvsr_cli.models.profiles import degrade_clip
from tpstvsr_cli.training.losses import VGGLoss, cycle_loss, joint_loss, l1, ssim, ssim_loss, tpsrm_loss, tpsrm_target


def test_l1_known_value():
    assert abs(float(l1(torch.zeros(2, 3), torch.full((2, 3), 0.5))) - 0.5) < 1e-7


def test_ssim_identity_and_known_structure():
    x = torch.rand(2, 3, 32, 32)
    assert abs(float(ssim(x, x)) - 1) < 1e-5
    # a constant image against itself plus an offset: structure/contrast terms are 1, luminance term known
    a, b = torch.full((1, 1, 16, 16), 0.2), torch.full((1, 1, 16, 16), 0.6)
    c1 = 0.01**2
    expected = (2 * 0.2 * 0.6 + c1) / (0.2**2 + 0.6**2 + c1)
    assert abs(float(ssim(a, b)) - expected) < 1e-4  # float32 variance noise
    assert float(ssim_loss(x[None], x[None])) < 1e-5


def test_tpsrm_target_size_and_loss_zero_on_target():
    gt = torch.rand(2, 7, 3, 16, 16)
    target = tpsrm_target(gt)
    assert target.shape == (2, 7, 3, 8, 4)
    assert float(tpsrm_loss(target, gt)) == 0


def test_cycle_loss_zero_for_consistent_output_and_positive_otherwise():
    out = torch.rand(1, 5, 3, 16, 16)
    lr = degrade_clip(out)
    assert float(cycle_loss(out, lr)) < 1e-6
    assert float(cycle_loss(out, lr + 0.1)) > 0.09


def test_joint_loss_weights():
    out, gt = torch.rand(1, 5, 3, 16, 16), torch.rand(1, 5, 3, 16, 16)
    lr = degrade_clip(gt)
    total, terms = joint_loss(out, gt, lr)
    assert abs(float(total) - (terms["l1"] + 0.1 * terms["ssim"] + terms["cycle"])) < 1e-5


def test_vgg_loss_with_a_random_state_dict():
    torch.manual_seed(0)
    vgg = VGGLoss(_random_vgg_state())
    x = torch.rand(1, 1, 3, 32, 32)
    assert float(vgg(x, x)) == 0
    assert float(vgg(x, x.flip(-1))) > 0


def _random_vgg_state():
    import torch.nn as nn

    layers, cin = [], 3
    for v in VGGLoss._CFG:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU()]
            cin = v
    return {f"features.{k}": v for k, v in nn.Sequential(*layers).state_dict().items()}
