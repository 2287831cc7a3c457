"""
``sunpy-magnetogan models``: list, show, fetch, register and unregister models.

Examples::

    sunpy-magnetogan models list
    sunpy-magnetogan models show default
    sunpy-magnetogan models fetch default
    sunpy-magnetogan models register ./my-run.safetensors --name my-run
    sunpy-magnetogan models register https://example.org/w.safetensors --name w --sha256 HASH
    sunpy-magnetogan models unregister my-run

Registrations are persisted in ``user_models.json`` in the weights cache directory
(``--cache-dir``, else ``$SUNPY_MAGNETOGAN_CACHE``, else ``<sunpy data dir>/magnetogan``).
"""

import json

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    """
    Register the ``models`` sub-command.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``ArgumentParser.add_subparsers``.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = subparsers.add_parser(
        "models",
        help="list, show, download and register trained models",
        description="Manage the model registry and the weights cache.",
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="weights cache directory (default: $SUNPY_MAGNETOGAN_CACHE or <sunpy data dir>/magnetogan)",
    )
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION")
    actions.required = True
    actions.add_parser("list", help="list registered models and where their files are")
    show = actions.add_parser("show", help="print a model card as JSON")
    show.add_argument("name")
    fetch = actions.add_parser("fetch", help="download (if needed) and verify a model's weights")
    fetch.add_argument("name")
    fetch.add_argument("--offline", action="store_true", default=None, help="use only the cache")
    fetch.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    register = actions.add_parser("register", help="register a local safetensors file or a URL")
    register.add_argument("source", metavar="PATH_OR_URL")
    register.add_argument("--name", required=True, help="name to register the model under")
    register.add_argument("--sha256", default=None, help="expected SHA-256 of the file (required for a URL)")
    register.add_argument("--card", default=None, help="JSON model card describing the file")
    register.add_argument("--overwrite", action="store_true", help="replace a model of the same name")
    unregister = actions.add_parser("unregister", help="remove a registered model")
    unregister.add_argument("name")
    return parser


def _where(card, cache_dir):
    if card.embedded:
        return "embedded"
    if card.path:
        return f"local: {card.path}"
    cached = (cache_dir / card.filename).is_file()
    return f"{'cached' if cached else 'not cached'}: {card.filename}"


def run(args):
    """
    Carry out ``sunpy-magnetogan models ACTION``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        Exit code (0 on success).
    """
    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan import weights

    cache_dir = weights.resolve_cache_dir(args.cache_dir)
    action = args.models_action
    if action == "list":
        names = weights.list_models(cache_dir=cache_dir)
        if not names:
            print(f"no models registered (cache: {cache_dir})")  # noqa: T201 - the command's output
        width = max(map(len, names), default=0)
        for name in names:
            card = weights.get_card(name, cache_dir=cache_dir)
            version = f"v{card.version}" if card.version else ""
            print(f"{name:<{width}}  {version:<8}  {_where(card, cache_dir)}")  # noqa: T201
    elif action == "show":
        card = weights.get_card(args.name, cache_dir=cache_dir)
        print(json.dumps(card.to_dict(), indent=2))  # noqa: T201
    elif action == "fetch":
        path = weights.fetch_weights(
            args.name, cache_dir=cache_dir, offline=args.offline, progress=args.progress
        )
        print(path)  # noqa: T201
    elif action == "register":
        card = weights.register_model(
            args.source,
            name=args.name,
            sha256=args.sha256,
            card=args.card,
            overwrite=args.overwrite,
            persist=True,
            cache_dir=cache_dir,
        )
        print(f"registered {card.name!r} (sha256 {card.sha256}) in {weights.user_models_path(cache_dir)}")  # noqa: T201
    elif action == "unregister":
        card = weights.unregister_model(args.name, cache_dir=cache_dir)
        print(f"unregistered {card.name!r}")  # noqa: T201
    return 0
