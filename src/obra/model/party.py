"""Parties: the people and organisations that create, perform, own or administer rights."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from obra import ids
from obra.model.text import IdentifierText, NameText, OptionalCodeText
from obra.model.vocab import PartyKind, Role


class PartyIdentifier(BaseModel):
    """A submitter's own number for a party (a CWR Interested Party #), scoped by ``scheme``.

    The number means something only to whoever issued it, so ``scheme`` names the issuer
    (``cwr:<sender id>``, the same scope as a work's submitter number). A later file from the
    same submitter that uses the number again names the same party: that is how a publisher's
    monthly CWR files stop creating a new copy of every writer they list.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    scheme: IdentifierText
    value: IdentifierText


class Party(BaseModel):
    """A person or organisation, identified where possible by IPI name number and ISNI."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int | None = Field(default=None, description="Obra's id, assigned on registration")
    key: OptionalCodeText | None = Field(default=None, description="the submitter's own reference, used inside a batch")
    kind: PartyKind = PartyKind.PERSON
    name: NameText
    roles: tuple[Role, ...] = Field(default=(), max_length=len(Role))
    ipi: OptionalCodeText | None = Field(default=None, description="IPI name number (11 digits)")
    ipi_base: OptionalCodeText | None = None
    isni: OptionalCodeText | None = None
    country: OptionalCodeText | None = Field(default=None, description="ISO 3166 country of residence/seat")
    identifiers: tuple[PartyIdentifier, ...] = Field(
        default=(), max_length=100, description="submitters' own numbers for the party, e.g. {cwr:<sender>, <IP #>}")

    @field_validator("ipi")
    @classmethod
    def _ipi(cls, v: str | None) -> str | None:
        return ids.parse_ipi_name(v) if v else None

    @field_validator("ipi_base")
    @classmethod
    def _ipi_base(cls, v: str | None) -> str | None:
        return ids.parse_ipi_base(v) if v else None

    @field_validator("isni")
    @classmethod
    def _isni(cls, v: str | None) -> str | None:
        return ids.parse_isni(v) if v else None

    @field_validator("country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        return ids.parse_territory(v, field="country") if v else None
