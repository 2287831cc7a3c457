"""
Tests of sunpy_magnetogan.nn: generators, discriminators, the pyramid, losses, init.
"""

import ast
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from sunpy_magnetogan import nn as mnn
from sunpy_magnetogan.nn import (
    GANLoss,
    ImageGANDiscriminator,
    LineOfSightProjection,
    PatchGANDiscriminator,
    PyramidGenerator,
    build_discriminator,
    build_generator,
    build_optimizer,
    build_pyramid,
    disk_mu,
    image_pyramid,
    init_weights,
    l2_loss,
    patchgan_layout,
    receptive_field,
)


@pytest.fixture(autouse=True)
def _one_thread():
    # The machine's cores are shared: one intra-op thread is faster for these tiny nets.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


# ---------------------------------------------------------------- generators
@pytest.mark.parametrize(
    ("name", "kwargs", "in_channels", "size"),
    [
        ("unet", {}, 1, 128),  # the paper's U-Net (64 filters, 6 + 6 blocks): 128 -> 2 px bottleneck
        ("unet", {}, 2, 64),  # ... and at its smallest size, a 1 px bottleneck
        ("unet", {"base_channels": 8, "depth": 4}, 2, 32),
        ("resnet", {}, 1, 64),  # the paper's simplified ResNet: 1 encoder, 5 residual, 1 decoder
        ("resnet", {"base_channels": 8, "n_blocks": 2, "n_downsampling": 2}, 2, 32),
        ("atrous", {}, 1, 64),  # encoder-decoder with atrous spatial pyramid pooling
        ("atrous", {"base_channels": 8, "n_downsampling": 3, "rates": (1, 2)}, 2, 32),
    ],
)
def test_generator_output_shape_and_range(name, kwargs, in_channels, size):
    net = init_weights(build_generator(name, in_channels=in_channels, **kwargs))
    x = torch.rand(2, in_channels, size, size) * 2 - 1
    y = net(x)
    assert y.shape == (2, 1, size, size)
    assert y.abs().max() <= 1.0
    assert y.std() > 0  # not a constant output


def test_paper_unet_structure():
    net = build_generator("unet")
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    deconvs = [m for m in net.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert len(convs) == 6
    assert len(deconvs) == 6
    assert convs[0].out_channels == 64
    assert all(m.kernel_size == (4, 4) for m in convs + deconvs)
    assert isinstance(net.head[-1], nn.Tanh)
    assert sum(isinstance(m, nn.LeakyReLU) for m in net.modules()) == 6


def test_paper_resnet_structure():
    net = build_generator("resnet")
    assert len(net.encoder) == 1
    assert len(net.blocks) == 5
    assert len(net.decoder) == 1
    assert any(isinstance(m, nn.InstanceNorm2d) for m in net.blocks.modules())


def test_atrous_generator_uses_dilated_convolutions():
    net = build_generator("atrous", rates=(2, 4, 6))
    dilations = {m.dilation[0] for m in net.modules() if isinstance(m, nn.Conv2d)}
    assert {2, 4, 6} <= dilations


@pytest.mark.parametrize("name", ["unet", "resnet", "atrous"])
def test_generator_trains_on_a_batch_of_one(name):
    # Batch size 1 is the paper's; small inputs must still train in train mode: down to a
    # 1 px bottleneck for the U-Net, a 2 px one for the others (normalised bottlenecks).
    net = build_generator(name, base_channels=4)
    size = 2**net.depth if name == "unet" else 2 ** (net.n_downsampling + 1)
    loss = net(torch.randn(1, 1, size, size)).square().mean()
    loss.backward()
    assert all(p.grad is not None for p in net.parameters())


def test_generator_rejects_sizes_it_cannot_handle():
    with pytest.raises(ValueError, match="multiples of 64"):
        build_generator("unet")(torch.zeros(1, 1, 96, 96))


# ---------------------------------------------------------------- discriminators
@pytest.mark.parametrize("patch_size", [8, 16, 32, 48, 64, 70, 100])
def test_patchgan_receptive_field_equals_patch_size(patch_size):
    d = init_weights(PatchGANDiscriminator(patch_size=patch_size, base_channels=4))
    assert d.receptive_field == patch_size
    # Measured: the central output pixel has a non-zero input gradient on exactly P x P pixels.
    assert receptive_field(d, input_size=3 * patch_size + 17) == (patch_size, patch_size)


def test_pix2pix_70_layout_is_reproduced():
    assert patchgan_layout(70) == [(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)]


def test_paper_patchgans_on_their_levels():
    # D0, D1, D2 of the paper: 64 px patches on 128 px, 32 on 256, 16 on 512.
    for size, patch in [(128, 64), (256, 32), (512, 16)]:
        d = build_discriminator("patchgan", patch_size=patch, base_channels=4)
        n_down = sum(stride == 2 for _, stride in d.layout)
        with torch.inference_mode():
            out = d.eval()(torch.zeros(1, 2, size, size))
        assert out.shape[:2] == (1, 1)
        assert abs(out.shape[-1] - size / 2**n_down) <= 3
        assert out.shape[-1] > size // patch  # overlapping patches


def test_paper_patchgan_has_six_conv_blocks_from_64_filters():
    d = build_discriminator("patchgan", patch_size=64)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 6
    assert convs[0].out_channels == 64
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) == 4


def test_patchgan_rejects_tiny_patches():
    with pytest.raises(ValueError, match="at least 4"):
        PatchGANDiscriminator(patch_size=3)


def test_imagegan_judges_the_whole_image():
    d = init_weights(ImageGANDiscriminator(base_channels=4, n_layers=4))
    assert d(torch.randn(3, 2, 64, 64)).shape == (3, 1, 1, 1)
    assert receptive_field(d, input_size=64) == (64, 64)
    # The paper's 6-layer ImageGAN on a 512 px image, batch of one, in train mode.
    d6 = ImageGANDiscriminator(base_channels=4)
    d6(torch.randn(1, 2, 64, 64)).mean().backward()


# ---------------------------------------------------------------- pyramid
def test_image_pyramid_is_area_average():
    x = torch.rand(2, 1, 32, 32)
    levels = image_pyramid(x, 3)
    assert [tuple(t.shape) for t in levels] == [(2, 1, 8, 8), (2, 1, 16, 16), (2, 1, 32, 32)]
    assert levels[-1] is x
    torch.testing.assert_close(levels[0][0, 0, 0, 0], x[0, 0, :4, :4].mean())
    torch.testing.assert_close(levels[0].mean(), x.mean())  # flux is conserved
    with pytest.raises(ValueError, match="multiples of 4"):
        image_pyramid(torch.zeros(1, 1, 30, 30), 3)


def test_paper_pyramid_shapes():
    generator, discriminator = build_pyramid(3, patch_sizes=(64, 32, 16))
    assert [g.in_channels for g in generator.levels] == [1, 2, 2]
    assert [d.patch_size for d in discriminator.levels] == [64, 32, 16]
    x = torch.rand(1, 1, 256, 256) * 2 - 1  # the smallest input the 6-deep U-Nets accept
    with torch.inference_mode():
        outputs = generator.eval()(x)
        assert [tuple(y.shape) for y in outputs] == [(1, 1, 64, 64), (1, 1, 128, 128), (1, 1, 256, 256)]
        logits = discriminator.eval()(image_pyramid(x, 3), outputs)
    assert [t.shape[:2] for t in logits] == [(1, 1)] * 3
    assert logits[0].shape[-1] < logits[1].shape[-1] < logits[2].shape[-1]


@pytest.mark.parametrize("n_levels", [1, 2, 4])
def test_pyramid_any_number_of_levels(n_levels):
    generator, discriminator = build_pyramid(
        n_levels,
        generator_kwargs={"base_channels": 4, "depth": 2},
        patch_sizes=[8] * n_levels,
        discriminator_kwargs={"base_channels": 4},
    )
    x = torch.rand(2, 1, 32, 32)
    outputs = generator(x)
    assert [y.shape[-1] for y in outputs] == [32 // 2 ** (n_levels - 1 - m) for m in range(n_levels)]
    logits = discriminator(image_pyramid(x, n_levels), outputs)
    assert len(logits) == n_levels


def test_imagegan_pyramid():
    generator, discriminator = build_pyramid(
        2,
        generator_kwargs={"base_channels": 4, "depth": 2},
        discriminator="imagegan",
        discriminator_kwargs={"base_channels": 4, "n_layers": 3},
    )
    x = torch.rand(2, 1, 32, 32)
    logits = discriminator(image_pyramid(x, 2), generator(x))
    assert [tuple(t.shape) for t in logits] == [(2, 1, 1, 1), (2, 1, 1, 1)]


def _tiny_pyramid(detach):
    generators = [build_generator("unet", in_channels=c, base_channels=4, depth=2) for c in (1, 2)]
    return init_weights(PyramidGenerator(generators, detach=detach))


def test_pyramid_levels_are_chained():
    pyramid = _tiny_pyramid(detach=False).eval()
    x = torch.rand(1, 1, 16, 16)
    before = pyramid(x)[1].detach().clone()
    with torch.no_grad():
        pyramid.levels[0].head[0].weight.mul_(-1.0)  # change only G0
    assert not torch.allclose(pyramid(x)[1], before)  # G1 sees G0's (upsampled) output


@pytest.mark.parametrize("detach", [False, True])
def test_pyramid_detach_stops_gradients_between_levels(detach):
    pyramid = _tiny_pyramid(detach=detach)
    pyramid(torch.rand(2, 1, 16, 16))[1].square().mean().backward()
    grads = [p.grad for p in pyramid.levels[0].parameters()]
    if detach:
        assert all(g is None for g in grads)
    else:
        assert any(g is not None and g.abs().sum() > 0 for g in grads)


def test_pyramid_supports_channels_last_and_inference_mode(device):
    pyramid = _tiny_pyramid(detach=False).eval().to(device)
    x = torch.rand(2, 1, 32, 32, device=device)
    with torch.inference_mode():
        reference = pyramid(x)
        pyramid_cl = pyramid.to(memory_format=torch.channels_last)
        fast = pyramid_cl(x.contiguous(memory_format=torch.channels_last))
    for a, b in zip(reference, fast, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


# ---------------------------------------------------------------- line-of-sight projection
def _asinh(b0=50.0, bsat=3000.0):
    """The package's default magnetogram normalisation, written out (G <-> [-1, 1])."""
    scale = float(torch.asinh(torch.tensor(bsat / b0)))
    return (lambda b: torch.asinh(b / b0) / scale), (lambda y: torch.sinh(scale * y) * b0), scale


@pytest.mark.parametrize("kind", ["asinh", "linear"])
def test_projection_multiplies_the_radial_field_by_mu(kind):
    size, radius = 64, 0.4
    if kind == "asinh":
        forward, inverse, scale = _asinh()
    else:
        forward, inverse, scale = (lambda b: b / 3000.0), (lambda y: y * 3000.0), 1.0
    radial = torch.full((1, 1, size, size), 800.0)
    radial[..., : size // 2, :] = -40.0  # a weak negative network field in the northern half
    los = inverse(LineOfSightProjection(radius, kind=kind, scale=scale)(forward(radial)))
    # mu of each pixel from its distance to the disk centre, computed independently.
    y, x = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    r = torch.hypot(x - size / 2, y - size / 2) / (radius * size)
    mu = torch.sqrt(torch.clamp(1 - r**2, min=0))
    torch.testing.assert_close(los[0, 0], radial[0, 0] * mu, atol=0.05, rtol=1e-3)
    assert los[0, 0, 0, 0] == 0  # off the disk
    torch.testing.assert_close(disk_mu(size, radius), mu.float())


def test_pyramid_with_projection_returns_line_of_sight_fields_at_every_level():
    _, inverse, scale = _asinh()
    generators = [build_generator("unet", in_channels=c, base_channels=4, depth=2) for c in (1, 2)]
    pyramid = init_weights(PyramidGenerator(generators, projection=LineOfSightProjection(0.4, scale=scale)))
    unprojected = PyramidGenerator(generators)
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        outputs, radial0 = pyramid(x), unprojected(x)[0]
    for y in outputs:
        mu = disk_mu(y.shape[-1], 0.4)
        assert torch.all(y[0, 0][mu == 0] == 0)  # nothing off the disk
        assert torch.all(y.abs() <= 1)
    # Level 0 is its generator's radial field times mu, in Gauss.
    torch.testing.assert_close(
        inverse(outputs[0])[0, 0], inverse(radial0)[0, 0] * disk_mu(16, 0.4), atol=0.05, rtol=1e-3
    )
    pyramid(x)[-1].square().mean().backward()  # and it trains through the projection
    assert generators[0].head[0].weight.grad.abs().sum() > 0


def test_projection_first_used_for_inference_still_trains():
    # The mu grids are computed once and reused; one first made under inference_mode must
    # not stop a later training step from saving it for backward.
    _, _, scale = _asinh()
    project = LineOfSightProjection(0.4, scale=scale)
    y = torch.rand(1, 1, 24, 24) * 2 - 1
    with torch.inference_mode():
        expected = project(y)
    radial = y.clone().requires_grad_(True)
    out = project(radial)
    torch.testing.assert_close(out.detach(), expected)
    out.square().sum().backward()
    assert radial.grad.abs().sum() > 0


def test_projection_rejects_bad_settings():
    with pytest.raises(ValueError, match="disk_radius"):
        LineOfSightProjection(0.7)
    with pytest.raises(ValueError, match="kind"):
        LineOfSightProjection(0.4, kind="log")
    with pytest.raises(ValueError, match="square"):
        LineOfSightProjection(0.4)(torch.zeros(1, 1, 8, 16))


# ---------------------------------------------------------------- losses, init, optimiser
def test_gan_loss_labels_are_buffers():
    loss = GANLoss(real_label=0.9)
    assert {name for name, _ in loss.named_buffers()} == {"real_label", "fake_label"}
    loss = loss.to(torch.float64)
    assert loss.real_label.dtype == torch.float64
    logits = torch.zeros(2, 1, 3, 3, dtype=torch.float64)
    assert float(loss(logits, False)) == pytest.approx(0.693147, abs=1e-6)
    # Confident right answers cost little, confident wrong ones a lot.
    assert float(GANLoss()(torch.full((4, 1), 8.0), True)) < 1e-3
    assert float(GANLoss()(torch.full((4, 1), 8.0), False)) > 7.9


def test_lsgan_loss():
    assert float(GANLoss("lsgan")(torch.full((2, 1, 4, 4), 0.5), True)) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="mode"):
        GANLoss("wgan")


def test_l2_loss_with_mask():
    prediction, target = torch.zeros(1, 1, 2, 2), torch.tensor([[[[1.0, 2.0], [0.0, 0.0]]]])
    assert float(l2_loss(prediction, target)) == pytest.approx(5 / 4)
    mask = torch.tensor([[[[True, False], [True, False]]]])
    assert float(l2_loss(prediction, target, mask)) == pytest.approx(1 / 2)


def test_generator_loss_combines_adversarial_and_l2():
    gan = GANLoss()
    logits = torch.zeros(1, 1, 4, 4)
    total, parts = mnn.generator_loss(
        gan, logits, torch.ones(1, 1, 8, 8), torch.zeros(1, 1, 8, 8), lambda_l2=10
    )
    assert float(total) == pytest.approx(float(parts["gan"]) + 10 * float(parts["l2"]))
    assert float(parts["l2"]) == pytest.approx(1.0)
    d = mnn.discriminator_loss(gan, logits, logits)
    assert float(d) == pytest.approx(0.693147, abs=1e-6)


def test_init_weights_follows_the_paper():
    net = nn.Sequential(nn.Conv2d(8, 64, 4), nn.BatchNorm2d(64), nn.ConvTranspose2d(64, 64, 4))
    init_weights(net, generator=torch.Generator().manual_seed(1))
    weights = torch.cat([net[0].weight.flatten(), net[2].weight.flatten()]).detach()
    assert abs(float(weights.mean())) < 1e-3
    assert float(weights.std()) == pytest.approx(0.02, rel=0.03)
    assert float(net[1].weight.detach().mean()) == pytest.approx(1.0, abs=0.01)
    assert not net[0].bias.detach().any()
    assert not net[1].bias.detach().any()


def test_build_optimizer_is_the_papers_adam():
    optimizer = build_optimizer(nn.Linear(2, 2).parameters())
    assert isinstance(optimizer, torch.optim.Adam)
    group = optimizer.param_groups[0]
    assert group["lr"] == 2e-4
    assert tuple(group["betas"]) == (0.5, 0.999)


# ---------------------------------------------------------------- registry and dependencies
def test_registry_lookup_and_registration():
    assert {"unet", "resnet", "atrous"} <= set(mnn.GENERATORS)
    assert {"patchgan", "imagegan"} <= set(mnn.DISCRIMINATORS)
    with pytest.raises(ValueError, match="unknown generator 'vnet'.*unet"):
        build_generator("vnet")

    @mnn.register_generator("test-identity")
    class Identity(nn.Module):
        def __init__(self, in_channels=1):
            super().__init__()
            self.in_channels = in_channels

        def forward(self, x):
            return x[:, :1]

    try:
        assert isinstance(build_generator("test-identity", in_channels=2), Identity)
        with pytest.raises(ValueError, match="already registered"):
            mnn.register_generator("test-identity")(nn.Identity)
    finally:
        del mnn.GENERATORS["test-identity"]


def test_nn_imports_only_torch_and_the_standard_library():
    allowed = {"torch", "sunpy_magnetogan"} | set(sys.stdlib_module_names)
    package = Path(mnn.__file__).parent
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{source.name} imports {name}"
                if name.startswith("sunpy_magnetogan"):
                    assert name.startswith("sunpy_magnetogan.nn"), f"{source.name} imports {name}"
