"""Consumers of events, registered by name with the kinds they handle.

A consumer registers from a module its AppConfig.ready() imports, so every process (web
server, worker, command) knows the same consumers::

    @consumer("provisioning", kinds=["trial.started", "subscription.started"])
    def on_event(event) -> None: ...
"""

from collections.abc import Callable, Iterable

Handler = Callable[[object], None]

_handlers: dict[str, Handler] = {}
_kinds: dict[str, set[str]] = {}


def consumer(name: str, kinds: Iterable[str]) -> Callable[[Handler], Handler]:
    """Register the decorated function as consumer ``name`` of the events ``kinds``.

    Every event of those kinds emitted afterwards gets one delivery to it. Registering a
    name twice with another function is a programming error and raises ``ValueError``.
    """
    kinds = set(kinds)

    def register(handler: Handler) -> Handler:
        known = _handlers.get(name)
        if known is not None and _qualname(known) != _qualname(handler):
            raise ValueError(f"consumer {name!r} is already registered by {_qualname(known)}")
        _handlers[name] = handler
        _kinds[name] = kinds
        return handler

    return register


def consumers_of(kind: str) -> list[str]:
    """The names of the consumers of ``kind``, sorted."""
    return sorted(name for name, kinds in _kinds.items() if kind in kinds)


def handler(name: str) -> Handler | None:
    return _handlers.get(name)


def unregister(name: str) -> None:
    """Forget consumer ``name`` (tests register throw-away consumers)."""
    _handlers.pop(name, None)
    _kinds.pop(name, None)


def _qualname(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"
