"""Text messages through the telephony provider (the one-time codes of data-subject requests)."""

import pytest

from campaigns.telephony import simulator
from campaigns.telephony.base import ProviderError
from campaigns.telephony.simulator import SimulatorProvider
from tests.campaigns.test_telephony import ACCOUNT_SID, API, twilio


@pytest.fixture(autouse=True)
def simulator_files(settings, tmp_path):
    settings.TELEPHONY_SIMULATOR_DIR = tmp_path / "simulator"
    settings.TELEPHONY_SMS_FROM = "+447700900999"


def test_twilio_sends_a_text_from_the_platforms_number_through_the_messages_resource():
    provider, http = twilio((201, {"sid": "SM" + "1" * 32, "status": "queued", "account_sid": ACCOUNT_SID}))

    sid = provider.send_sms("+447700900123", "Your NextSupport code is 123456.")

    [sent] = http.sent
    assert (sent.method, sent.url) == ("POST", f"{API}/Messages.json")
    assert sent.data == {"To": "+447700900123", "From": "+447700900999", "Body": "Your NextSupport code is 123456."}
    assert sid == "SM" + "1" * 32


def test_twilio_refusing_a_text_is_a_permanent_provider_error():
    provider, _ = twilio((400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}))

    with pytest.raises(ProviderError) as refused:
        provider.send_sms("+447700900123", "Your code is 123456.")
    assert refused.value.permanent and refused.value.code == "21211"


def test_without_a_sending_number_twilio_sends_nothing(settings):
    settings.TELEPHONY_SMS_FROM = ""
    provider, http = twilio()

    with pytest.raises(ProviderError, match="TELEPHONY_SMS_FROM"):
        provider.send_sms("+447700900123", "Your code is 123456.")
    assert http.sent == []


def test_the_simulator_keeps_each_text_where_a_developer_can_read_the_code():
    SimulatorProvider().send_sms("+447700900123", "Your code is 111111.")
    SimulatorProvider().send_sms("+447700900456", "Your code is 222222.")

    [message] = simulator.sent_messages("+447700900123")
    assert message["body"] == "Your code is 111111."
    assert len(simulator.sent_messages()) == 2


@pytest.mark.parametrize(("to", "body"), [("07700900123", "code"), ("+447700900123", ""), ("+447700900123", "x" * 321)])
def test_a_text_to_a_number_not_in_e164_empty_or_too_long_is_refused_before_sending(to, body):
    with pytest.raises(ProviderError):
        SimulatorProvider().send_sms(to, body)
