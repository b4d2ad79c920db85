"""Partner organisations: the social work teams, charities, housing associations and faith groups that refer
without an ODS code. Intake knows them from its partner register (PARTNERS_FILE); their staff's tokens name
one by its id (claim `org`), and a referral from one is held, read and answered as that partner's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from referral_intake.domain.referral import Referrer
from signpost_contracts.vocabulary import ReferrerKind


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    kind: ReferrerKind
    email: str  # where replies about its referrals go: the team's inbox, not one member of staff
    phone: str | None = None

    def as_referrer(self) -> Referrer:
        return Referrer(
            ods_code=None,
            kind=self.kind,
            organisation_name=self.name,
            email=self.email,
            phone=self.phone,
            partner_id=self.id,
        )


class UnknownPartner(Exception):  # noqa: N818 (an answer to the caller, not a fault)
    """No partner with this id is registered."""

    def __init__(self, partner_id: str) -> None:
        super().__init__(
            f"no partner organisation '{partner_id}' is registered with this service; ask the service to add it "
            "to its partner register (PARTNERS_FILE), or check the `org` claim of your token"
        )
        self.partner_id = partner_id


class PartnerRegister:
    """The registered partners, by id."""

    def __init__(self, partners: Iterable[Partner] = ()) -> None:
        self._by_id: Mapping[str, Partner] = {partner.id: partner for partner in partners}

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, partner_id: str) -> Partner:
        try:
            return self._by_id[partner_id]
        except KeyError:
            raise UnknownPartner(partner_id) from None
