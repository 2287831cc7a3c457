"""Inference rewrites: batch-norm folding, matrix-product transposed convolutions."""

import copy

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from sunpy_magnetogan.nn import (
    AtrousGenerator,
    ConvBlock,
    DeconvBlock,
    PatchGANDiscriminator,
    ResNetGenerator,
    UNetGenerator,
    fuse,
    init_weights,
)
from sunpy_magnetogan.nn.fuse import (
    MatmulConvTranspose2d,
    conv_transpose2d_matmul,
    count_batchnorm,
    fold_batchnorm,
    optimize_for_inference,
    use_matmul_conv_transpose,
)
from sunpy_magnetogan.training import get_preset


def _with_statistics(module, seed=0):
    """Random weights and non-trivial running statistics, as after training; eval mode."""
    gen = torch.Generator().manual_seed(seed)
    init_weights(module, std=0.1, generator=gen)
    for layer in module.modules():
        if isinstance(layer, nn.BatchNorm2d):
            layer.bias.data.uniform_(-0.3, 0.3, generator=gen)
            layer.running_mean.uniform_(-0.5, 0.5, generator=gen)
            layer.running_var.uniform_(0.2, 3.0, generator=gen)
    return module.eval()


def _relative(a, b):
    return float((a - b).norm() / b.norm())


@pytest.mark.parametrize(
    ("make", "in_channels"),
    [
        (lambda: ConvBlock(3, 8, 4, 2, norm="batch"), 3),
        (lambda: DeconvBlock(8, 5, norm="batch"), 8),
        (lambda: UNetGenerator(2, base_channels=8, depth=4), 2),
        (lambda: AtrousGenerator(base_channels=8, n_downsampling=3), 1),
        (lambda: PatchGANDiscriminator(2, patch_size=16, base_channels=8), 2),
    ],
    ids=["conv", "deconv", "unet", "atrous", "patchgan"],
)
def test_folding_removes_every_batchnorm_and_keeps_the_function(make, in_channels):
    net = _with_statistics(make())
    x = torch.rand(2, in_channels, 32, 32) * 2 - 1
    before = count_batchnorm(net)
    assert before > 0
    folded = fold_batchnorm(net)
    assert count_batchnorm(folded) == 0
    assert count_batchnorm(net) == before  # the original is left alone
    with torch.no_grad():
        expected, got = net(x), folded(x)
    assert got.shape == expected.shape
    assert _relative(got, expected) < 1e-5
    assert torch.allclose(got, expected, atol=1e-5)


def test_folding_keeps_names_and_leaves_instance_norm_alone():
    net = _with_statistics(ResNetGenerator(base_channels=8, n_blocks=2))
    folded = fold_batchnorm(net)
    # Instance norm has no running statistics: nothing to fold, function unchanged.
    assert [type(m) for m in folded.modules()] == [type(m) for m in net.modules()]
    unet = _with_statistics(UNetGenerator(base_channels=8, depth=4))
    names = {name for name, _ in unet.named_modules()}
    assert {name for name, _ in fold_batchnorm(unet).named_modules()} == names
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(folded(x), net(x))


def test_folding_needs_eval_mode_and_can_work_in_place():
    net = _with_statistics(UNetGenerator(base_channels=8, depth=3))
    with pytest.raises(ValueError, match="eval mode"):
        fold_batchnorm(net.train())
    net.eval()
    assert fold_batchnorm(net, inplace=True) is net
    assert count_batchnorm(net) == 0


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize(
    ("c_in", "c_out", "size", "kernel", "stride", "padding"),
    [(16, 1, 32, 4, 2, 1), (24, 6, 4, 4, 2, 1), (8, 3, 5, 3, 1, 1), (4, 2, 1, 4, 2, 1), (6, 5, 7, 3, 2, 0)],
)
def test_matmul_conv_transpose_equals_the_kernel(c_in, c_out, size, kernel, stride, padding, channels_last):
    gen = torch.Generator().manual_seed(c_in)
    x = torch.randn(3, c_in, size, size, generator=gen)
    weight = torch.randn(c_in, c_out, kernel, kernel, generator=gen)
    bias = torch.randn(c_out, generator=gen)
    expected = F.conv_transpose2d(x, weight, bias, stride=stride, padding=padding)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
        weight = weight.contiguous(memory_format=torch.channels_last)
    got = conv_transpose2d_matmul(x, weight, bias, stride=stride, padding=padding)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-5)
    if size > 1:  # (a 1 x 1 image is in both formats at once)
        layout = torch.channels_last if channels_last else torch.contiguous_format
        assert got.is_contiguous(memory_format=layout)
    no_bias = conv_transpose2d_matmul(x, weight, stride=stride, padding=padding)
    assert torch.allclose(no_bias + bias.view(1, -1, 1, 1), expected, rtol=1e-5, atol=1e-5)


def test_matmul_conv_transpose_gradients():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    weight = torch.randn(3, 2, 4, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda x, w: conv_transpose2d_matmul(x, w, stride=2, padding=1), (x, weight)
    )


def test_matmul_layer_shares_parameters_and_takes_the_fast_path_only_where_it_pays(monkeypatch):
    net = _with_statistics(UNetGenerator(base_channels=8, depth=4))
    state = copy.deepcopy(net.state_dict())
    use_matmul_conv_transpose(net)
    layers = [m for m in net.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert layers
    assert all(type(m) is MatmulConvTranspose2d for m in layers)
    assert net.state_dict().keys() == state.keys()
    assert all(torch.equal(net.state_dict()[k], v) for k, v in state.items())

    calls = []
    original = fuse.conv_transpose2d_matmul
    monkeypatch.setattr(
        fuse, "conv_transpose2d_matmul", lambda *a, **k: calls.append(a[0].shape) or original(*a, **k)
    )
    head = net.head[0]  # 16 -> 1 channels: matrix product at any size
    inner = net.decoder[0][0][0]  # 64 -> 32 channels
    head(torch.rand(1, 16, 32, 32))
    inner(torch.rand(1, 64, 8, 8))  # 64 pixels: matrix product
    inner(torch.rand(1, 64, 16, 16))  # 256 pixels: the usual kernel
    inner(torch.rand(1, 64, 4, 4), output_size=(8, 8))  # output_size: the usual kernel
    assert [tuple(s) for s in calls] == [(1, 16, 32, 32), (1, 64, 8, 8)]


def test_optimize_for_inference_copies_and_agrees_with_the_trained_network():
    model_config, train_config = get_preset("default")
    generator, _ = model_config.build(train_config.normalization)
    _with_statistics(generator).train()
    optimized = optimize_for_inference(generator)
    assert generator.training  # the original keeps its mode and layers
    assert count_batchnorm(generator) > 0
    assert count_batchnorm(optimized) == 0
    assert not optimized.training
    assert not any(p.requires_grad for p in optimized.parameters())
    convs = [m for m in optimized.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    assert all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convs)
    x = torch.rand(2, 1, 256, 256) * 2 - 1
    with torch.inference_mode():
        expected = generator.eval()(x)
        got = optimized(x)
        exact = copy.deepcopy(generator).double()(x.double())
    # Agreement to float32 rounding: the optimised copy is no further from the float64
    # result than a few times the trained network's own float32 error (about 2e-5 at the
    # finest level of the resize-convolution decoders, where the two differ by 3e-5).
    for level_got, level_expected, level_exact in zip(got, expected, exact, strict=True):
        own_error = _relative(level_expected.double(), level_exact)
        assert _relative(level_got.double(), level_exact) <= 4 * own_error + 1e-6
        assert _relative(level_got, level_expected) < 1e-4
    # Deterministic on the CPU: the same input gives the same bits.
    with torch.inference_mode():
        assert torch.equal(optimized(x)[-1], got[-1])
