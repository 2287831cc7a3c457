"""
Weights checked against their card's architecture: the tensor names, shapes and dtypes the
described network needs, compared with the safetensors header (bytes only, no tensor read).

Registering a file that belongs to another architecture fails here with one message that
names the differences, instead of torch's long ``load_state_dict`` error at the first
``generate``.
"""

from sunpy_magnetogan.exceptions import WeightsArchitectureError
from sunpy_magnetogan.weights.safetensors_io import check_safetensors_header

__all__ = ["check_weights_architecture", "expected_tensors"]

#: Most differences listed in an error message.
_MAX_LISTED = 5
_FLOAT_DTYPES = {"F64", "F32", "F16", "BF16"}


def expected_tensors(architecture, normalization=None):
    """
    The tensors a card's architecture needs, without allocating them.

    Parameters
    ----------
    architecture : dict
        The card's ``architecture`` (a `~sunpy_magnetogan.training.ModelConfig` as a dict).
    normalization : dict, optional
        The card's ``normalization`` (its ``magnetogram`` and ``grid`` entries shape
        networks with a line-of-sight projection).

    Returns
    -------
    dict
        Tensor name -> ``(shape, dtype)``, the dtype as safetensors writes it (``"F32"``...).
    """
    import torch

    # lazy: torch and the network code load in seconds, and the registry is also used by
    # commands (``models list``) that must answer at once.
    from sunpy_magnetogan.architecture import ModelConfig
    from sunpy_magnetogan.grid import ModelGrid

    normalization = normalization or {}
    grid = ModelGrid(**normalization.get("grid", {}))
    config = ModelConfig.from_dict(architecture)
    with torch.device("meta"):  # shapes and dtypes only: nothing is allocated
        generator, _ = config.build(normalization.get("magnetogram"), disk_radius=grid.disk_radius)
    return {name: (tuple(t.shape), _safetensors_dtype(t.dtype)) for name, t in generator.state_dict().items()}


def _safetensors_dtype(dtype):
    import torch

    names = {
        torch.float64: "F64",
        torch.float32: "F32",
        torch.float16: "F16",
        torch.bfloat16: "BF16",
        torch.int64: "I64",
        torch.int32: "I32",
        torch.int16: "I16",
        torch.int8: "I8",
        torch.uint8: "U8",
        torch.bool: "BOOL",
    }
    return names.get(dtype, str(dtype))


def _dtype_fits(stored, needed):
    # Floating-point weights load into any floating-point parameter (torch casts them).
    return stored == needed or (stored in _FLOAT_DTYPES and needed in _FLOAT_DTYPES)


def check_weights_architecture(path, card):
    """
    Check that a weights file holds exactly the tensors its card's architecture needs.

    Parameters
    ----------
    path : str or os.PathLike
        The safetensors file.
    card : `~sunpy_magnetogan.weights.ModelCard` or dict
        Its card (or the card's fields). A card without an ``architecture`` describes no
        network, and nothing is checked.

    Raises
    ------
    sunpy_magnetogan.exceptions.WeightsArchitectureError
        If a tensor is missing, unexpected, or of another shape or dtype; the message lists
        the first differences and their counts.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.training import get_preset
    >>> from sunpy_magnetogan.weights import save_weights
    >>> from sunpy_magnetogan.weights.architecture import check_weights_architecture
    >>> config, _ = get_preset("compact")
    >>> card = {"name": "half", "architecture": config.to_dict()}
    >>> generator, _ = config.build()
    >>> state = generator.state_dict()
    >>> state.pop("levels.0.encoder.0.0.weight")  # doctest: +ELLIPSIS
    tensor(...)
    >>> _ = save_weights(state, tmp_path / "half.safetensors", card=card)
    >>> check_weights_architecture(tmp_path / "half.safetensors", card)
    Traceback (most recent call last):
    ...
    sunpy_magnetogan.exceptions.WeightsArchitectureError: ...
    """
    fields = card if isinstance(card, dict) else card.to_dict()
    architecture = fields.get("architecture")
    if not architecture:
        return
    header = check_safetensors_header(path)
    stored = {
        name: (tuple(entry["shape"]), entry["dtype"])
        for name, entry in header.items()
        if name != "__metadata__"
    }
    needed = expected_tensors(architecture, fields.get("normalization"))
    missing = sorted(set(needed) - set(stored))
    unexpected = sorted(set(stored) - set(needed))
    wrong = [
        f"{name} {_describe(stored[name])} instead of {_describe(needed[name])}"
        for name in sorted(set(needed) & set(stored))
        if stored[name][0] != needed[name][0] or not _dtype_fits(stored[name][1], needed[name][1])
    ]
    problems = [
        f"{len(items)} {what} ({', '.join(items[:_MAX_LISTED])}{', ...' if len(items) > _MAX_LISTED else ''})"
        for what, items in (
            ("missing", missing),
            ("unexpected", unexpected),
            ("of another shape or dtype", wrong),
        )
        if items
    ]
    if problems:
        raise WeightsArchitectureError(
            f"{path} does not fit the architecture of its model card {fields.get('name')!r} "
            f"({len(needed)} tensors): {'; '.join(problems)}. The file belongs to another model, or "
            "the card describes another network"
        )


def _describe(spec):
    shape, dtype = spec
    return f"{dtype}{list(shape)}"
