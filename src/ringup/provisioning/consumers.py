"""The provisioning consumer of subscription events (imported by the AppConfig)."""

from ringup.events.registry import consumer

from .services import KINDS, record_operation


@consumer("provisioning", kinds=KINDS)
def on_subscription_event(event) -> None:
    record_operation(event)
