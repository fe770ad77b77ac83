import pytest

from nextsupport.identifiers import InvalidEmail, InvalidPhoneNumber, normalise_email, normalise_phone


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("020 7946 0018", "+442079460018"),
        ("0113 496 0999", "+441134960999"),
        ("07911123456", "+447911123456"),
        ("+44 (0)7911 123456", "+447911123456"),
        ("00 44 7911 123456", "+447911123456"),
        ("+1 212 555 0100", "+12125550100"),
    ],
)
def test_phone_numbers_normalise_to_e164_with_uk_as_default_region(raw, e164, settings):
    assert normalise_phone(raw) == e164


@pytest.mark.parametrize("raw", ["", "   ", "hello", "0123", "07911 1234564567", "+44 20 1234"])
def test_impossible_phone_numbers_are_refused_with_a_reason(raw, settings):
    with pytest.raises(InvalidPhoneNumber) as error:
        normalise_phone(raw)
    assert error.value.messages[0]


def test_emails_are_trimmed_and_lower_cased():
    assert normalise_email("  Ada@Example.ORG ") == "ada@example.org"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("zoë.brown0@example.co.uk", "zoë.brown0@example.co.uk"),
        ("Zoe\u0308@Example.co.uk", "zoë@example.co.uk"),  # a combining diaeresis is the same mailbox
        ("info@bücher.example", "info@bücher.example"),
        ("用户@例子.广告", "用户@例子.广告"),
        ("o'brien+crm@example.org", "o'brien+crm@example.org"),
    ],
)
def test_internationalised_addresses_are_addresses(raw, normalised):
    assert normalise_email(raw) == normalised


@pytest.mark.parametrize(
    "raw", ["", "ada", "ada@", "@example.org", "ada@@example.org", "a..b@example.org", "ada@example", "ada@-x.org", "a b@x.org"]
)
def test_malformed_emails_are_refused(raw):
    with pytest.raises(InvalidEmail):
        normalise_email(raw)
