"""The fast paths of generation and training give the results of the plain paths."""

import numpy as np
import pytest
import torch

from sunpy_magnetogan.generate import generate_magnetogram, load_model
from sunpy_magnetogan.nn import build_optimizer
from sunpy_magnetogan.nn.fuse import MatmulConvTranspose2d, count_batchnorm
from sunpy_magnetogan.training.dataset import prefetch as _prefetch

from .helpers_maps import make_test_map


def _relative_l2(a, b):
    finite = np.isfinite(b)
    return np.linalg.norm(a[finite] - b[finite]) / np.linalg.norm(b[finite])


@pytest.fixture(scope="module")
def euv_map():
    return make_test_map(256)


def test_optimised_model_is_a_separate_cached_copy(tiny_model):
    fast = load_model(tiny_model, device="cpu")
    plain = load_model(tiny_model, device="cpu", optimize=False)
    assert fast is load_model(tiny_model, device="cpu", optimize=True)
    assert plain is not fast
    assert count_batchnorm(plain.generator) > 0
    assert count_batchnorm(fast.generator) == 0
    assert any(isinstance(m, MatmulConvTranspose2d) for m in fast.generator.modules())
    assert not any(p.requires_grad for p in fast.generator.parameters())


def test_optimised_generation_equals_the_plain_network(tiny_model, euv_map):
    fast = generate_magnetogram(euv_map, model=load_model(tiny_model, device="cpu"))
    plain = generate_magnetogram(euv_map, model=load_model(tiny_model, device="cpu", optimize=False))
    assert np.array_equal(np.isnan(fast.data), np.isnan(plain.data))
    assert _relative_l2(fast.data, plain.data) < 1e-5
    again = generate_magnetogram(euv_map, model=load_model(tiny_model, device="cpu"))
    assert np.array_equal(again.data, fast.data, equal_nan=True)  # deterministic


def test_batched_prediction_equals_one_by_one(tiny_model):
    loaded = load_model(tiny_model, device="cpu")
    rng = np.random.default_rng(0)
    batch = rng.uniform(-1, 1, (3, 128, 128)).astype(np.float32)
    together = loaded.predict(batch)
    assert together.shape == (3, 128, 128)
    assert together.dtype == np.float32
    for i in range(3):
        alone = loaded.predict(batch[i : i + 1])[0]
        assert _relative_l2(together[i], alone) < 1e-5


def test_foreach_adam_steps_exactly_like_the_per_parameter_loop():
    torch.manual_seed(0)
    start = [torch.randn(8, 4, 3, 3), torch.randn(8)]

    def trajectory(**options):
        params = [p.clone().requires_grad_(True) for p in start]
        optimizer = (
            build_optimizer(params)
            if not options
            else torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999), **options)
        )
        gen = torch.Generator().manual_seed(1)
        for _ in range(5):
            for p in params:
                p.grad = torch.randn(p.shape, generator=gen)
            optimizer.step()
        return optimizer, params

    optimizer, fast = trajectory()
    assert optimizer.defaults["foreach"] is True  # CPU parameters: multi-tensor, not fused
    _, plain = trajectory(foreach=False)
    assert all(torch.equal(a, b) for a, b in zip(fast, plain, strict=True))


def test_prefetch_keeps_order_and_passes_errors_on():
    assert list(_prefetch(iter(range(50)), depth=3)) == list(range(50))

    def failing():
        yield 1
        raise OSError("disk gone")

    seen = []

    def consume():
        for item in _prefetch(failing()):
            seen.append(item)

    with pytest.raises(OSError, match="disk gone"):
        consume()
    assert seen == [1]
    # Leaving early stops the background thread.
    stream = _prefetch(iter(range(1000)), depth=2)
    assert next(stream) == 0
    stream.close()


@pytest.mark.cuda
def test_bf16_cuda_generation_agrees_with_fp32_cpu(tiny_model, euv_map):
    cpu = generate_magnetogram(euv_map, model=load_model(tiny_model, device="cpu", optimize=False))
    for optimize in (True, False):
        gpu = generate_magnetogram(
            euv_map, model=load_model(tiny_model, device="cuda", optimize=optimize), precision="bf16"
        )
        assert _relative_l2(gpu.data, cpu.data) < 1e-2


@pytest.mark.cuda
@pytest.mark.slow
def test_compiled_cuda_generation_agrees_with_fp32_cpu(tiny_model, euv_map):
    cpu = generate_magnetogram(euv_map, model=load_model(tiny_model, device="cpu", optimize=False))
    loaded = load_model(tiny_model, device="cuda", compile=True)
    for _ in range(3):  # CUDA graphs are recorded on the first calls, replayed after
        gpu = generate_magnetogram(euv_map, model=loaded, precision="bf16")
    assert _relative_l2(gpu.data, cpu.data) < 1e-2
