"""Routes of the telephony provider's webhooks (namespace "telephony"), under /telephony/."""

from django.urls import path

from . import webhooks

app_name = "telephony"

urlpatterns = [
    path("calls/<int:call_id>/status", webhooks.call_status, name="call-status"),
    path("calls/<int:call_id>/machine", webhooks.call_machine, name="call-machine"),
    path("calls/<int:call_id>/turn", webhooks.call_turn, name="call-turn"),
    path("calls/<int:call_id>/fallback", webhooks.call_fallback, name="call-fallback"),
    path("calls/<int:call_id>/recording", webhooks.call_recording, name="call-recording"),
    path("calls/<int:call_id>/dial", webhooks.call_dial, name="call-dial"),
    path("callback", webhooks.callback, name="callback"),
    path("callback/stop", webhooks.callback_stop, name="callback-stop"),
    path("caller-ids/<int:caller_id>/status", webhooks.caller_id_status, name="caller-id-status"),
]
