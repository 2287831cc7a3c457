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
    """
    return _register(DISCRIMINATORS, "discriminator", name)


def _build(registry, kind, name, kwargs):
    # Importing the architecture modules fills the registries.
    from sunpy_magnetogan.nn import discriminators, generators  # noqa: F401

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
    """
    return _build(DISCRIMINATORS, "discriminator", name, kwargs)
