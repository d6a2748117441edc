"""Events that trigger mailings become recipient rows; the sender mails them when due."""

from ringup.events.registry import consumer

from . import services


@consumer("mailings", kinds=services.TRIGGER_KINDS)
def on_event(event) -> None:
    services.on_event(event)
