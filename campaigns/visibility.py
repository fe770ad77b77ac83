"""What a member sees of the people a campaign called: the one place the portal's pages and its
CSV export decide it.

Every member who may open a campaign (VIEW) sees its counts, outcomes and
results, with each number masked and no name. Names, full numbers,
transcripts and what people actually said need SEE_PERSONAL_DATA; hearing a
recording needs HEAR_RECORDINGS (checked again by the view that plays it).
"""

from dataclasses import dataclass

from accounts.models import Capability, Membership
from nextsupport.identifiers import display_phone, mask_phone

ERASED = "(erased)"


@dataclass(frozen=True)
class Visibility:
    personal: bool
    recordings: bool

    @classmethod
    def of(cls, membership: Membership) -> "Visibility":
        return cls(personal=membership.can(Capability.SEE_PERSONAL_DATA), recordings=membership.can(Capability.HEAR_RECORDINGS))

    def number(self, consumer) -> str:
        """The number called, in full or masked; "(erased)" once the person's data is gone."""
        if consumer is None:
            return ERASED
        return display_phone(consumer.phone) if self.personal else mask_phone(consumer.phone)

    def name(self, consumer) -> str:
        """The person's name, or "" for a member who may not see it."""
        if consumer is None or not self.personal:
            return ""
        return consumer.name or ""
