from django import template

from nextsupport.identifiers import display_phone

register = template.Library()


@register.filter
def phone(e164):
    """{{ consumer.phone|phone }}: a stored E.164 number as people write it."""
    return display_phone(e164) if e164 else ""
