"""
Registries of generator and discriminator architectures, looked up by name.

A configuration names an architecture (``"unet"``, ``"patchgan"``, ...) and gives its
keyword arguments; `build_generator` / `build_discriminator` turn that into a module.
New architectures register themselves with a decorator::

    @register_generator("my-net")
    class MyNet(torch.nn.Module): ...
"""

__all__ = [
    "DISCRIMINATORS",
    "GENERATORS",
    "build_discriminator",
    "build_generator",
    "register_discriminator",
    "register_generator",
]

#: Generator classes by name (filled by `register_generator`).
GENERATORS = {}
#: Discriminator classes by name (filled by `register_discriminator`).
DISCRIMINATORS = {}


def _register(registry, kind, name):
    def decorator(cls):
        if name in registry and registry[name] is not cls:
            raise ValueError(f"a {kind} named {name!r} is already registered ({registry[name].__qualname__})")
        registry[name] = cls
        cls.registry_name = name
        return cls

    return decorator


def register_generator(name):
    """
    Class decorator that registers a generator under ``name``.

    Parameters
    ----------
    name : str
        The name configurations use.

    Returns
    -------
    callable
        The decorator; it returns the class unchanged apart from a ``registry_name``
        attribute.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import GENERATORS, build_generator, register_generator
    >>> @register_generator("tanh-conv")
    ... class TanhConv(torch.nn.Module):
    ...     def __init__(self, in_channels=1, out_channels=1):
    ...         super().__init__()
    ...         self.conv = torch.nn.Conv2d(in_channels, out_channels, 3, padding=1)
    ...     def forward(self, x):
    ...         return torch.tanh(self.conv(x))
    >>> build_generator("tanh-conv", in_channels=2)(torch.zeros(1, 2, 8, 8)).shape
    torch.Size([1, 1, 8, 8])
    >>> del GENERATORS["tanh-conv"]  # keep the registry clean
    """
    return _register(GENERATORS, "generator", name)


def register_discriminator(name):
    """
    Class decorator that registers a discriminator under ``name``.

    Parameters
    ----------
    name : str
        The name configurations use.

    Returns
    -------
    callable
        The decorator.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import DISCRIMINATORS, build_discriminator, register_discriminator
    >>> @register_discriminator("mean-logit")
    ... class MeanLogit(torch.nn.Module):
    ...     def __init__(self, in_channels=2):
    ...         super().__init__()
    ...         self.head = torch.nn.Conv2d(in_channels, 1, 1)
    ...     def forward(self, x):
    ...         return self.head(x).mean(dim=(2, 3), keepdim=True)
    >>> build_discriminator("mean-logit")(torch.zeros(1, 2, 8, 8)).shape
    torch.Size([1, 1, 1, 1])
    >>> del DISCRIMINATORS["mean-logit"]  # keep the registry clean
    """
    return _register(DISCRIMINATORS, "discriminator", name)


def _build(registry, kind, name, kwargs):
    # The registries are full: importing this module runs ``sunpy_magnetogan.nn``'s
    # ``__init__``, which imports the architecture modules that register themselves.
    try:
        cls = registry[name]
    except KeyError:
        raise ValueError(f"unknown {kind} {name!r}; registered: {', '.join(sorted(registry))}") from None
    return cls(**kwargs)


def build_generator(name, **kwargs):
    """
    Instantiate a registered generator.

    Parameters
    ----------
    name : str
        Registered name (`GENERATORS`): ``"unet"``, ``"resnet"`` or ``"atrous"``.
    **kwargs
        Passed to the class (``in_channels``, ``base_channels``, ...).

    Returns
    -------
    torch.nn.Module
        Maps ``(B, in_channels, H, W)`` to ``(B, out_channels, H, W)`` in [-1, 1].

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import build_generator
    >>> g = build_generator("resnet", base_channels=8)
    >>> g(torch.zeros(1, 1, 32, 32)).shape
    torch.Size([1, 1, 32, 32])
    """
    return _build(GENERATORS, "generator", name, kwargs)


def build_discriminator(name, **kwargs):
    """
    Instantiate a registered discriminator.

    Parameters
    ----------
    name : str
        Registered name (`DISCRIMINATORS`): ``"patchgan"`` or ``"imagegan"``.
    **kwargs
        Passed to the class (``patch_size``, ``in_channels``, ...).

    Returns
    -------
    torch.nn.Module
        Maps ``(B, in_channels, H, W)`` to logits ``(B, 1, H', W')``.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import build_discriminator
    >>> d = build_discriminator("patchgan", patch_size=32, base_channels=8)
    >>> d.receptive_field, d(torch.zeros(1, 2, 128, 128)).shape
    (32, torch.Size([1, 1, 31, 31]))
    """
    return _build(DISCRIMINATORS, "discriminator", name, kwargs)
