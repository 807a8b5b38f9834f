"""Works and their creation-mode disclosure (human, AI-assisted, AI-generated)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from obra import ids
from obra.model.shares import Share
from obra.model.text import (CodeText, IdentifierText, OptionalCodeText, OptionalProseText, PartyRef,
                              ProseText, TitleText)
from obra.model.vocab import CreationMode, Role, WorkKind


class Title(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: TitleText
    kind: CodeText = Field(default="alternate", description="alternate, translated, original-language, ...")
    language: OptionalCodeText | None = None


class AISystem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: CodeText
    version: OptionalCodeText | None = None
    provider: OptionalCodeText | None = None


class AIDisclosure(BaseModel):
    """What copyright offices ask of a work made with AI.

    Follows the questions of e.g. the US Copyright Office's registration guidance: which
    systems were used, what the AI produced, what the humans contributed, and what is
    excluded from the claim because it is not human authorship.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    systems: tuple[AISystem, ...] = Field(min_length=1, max_length=50)
    ai_contribution: ProseText = Field(description="what the AI system produced")
    human_contribution: OptionalProseText = Field(
        default="", description="what the humans contributed (selection, arrangement, lyrics...)")
    excluded_material: OptionalProseText = Field(default="", description="material excluded from the claim")
    training_data_disclosure: OptionalProseText | None = Field(
        default=None, description="link or summary of the system's training data, if known")


class WorkIdentifier(BaseModel):
    """A submitter's own number for the work (e.g. a CWR Submitter Work #), scoped by ``scheme``.

    ``scheme`` names who issued the number (``cwr:<sender id>``), so that a later revision
    from the same submitter finds the registration it revises.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    scheme: IdentifierText
    value: IdentifierText


class Contributor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    party: PartyRef
    role: Role


class Work(BaseModel):
    """A work of authorship as registered: titles, identifiers, creators, shares, disclosure."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: WorkKind = WorkKind.MUSICAL
    title: TitleText
    alternate_titles: tuple[Title, ...] = Field(default=(), max_length=100)
    iswc: OptionalCodeText | None = None
    creation_date: date | None = None
    language: OptionalCodeText | None = Field(default=None, description="ISO 639 language code")
    genre: OptionalCodeText | None = None
    creation_mode: CreationMode = CreationMode.HUMAN
    disclosure: AIDisclosure | None = None
    contributors: tuple[Contributor, ...] = Field(default=(), max_length=1000)
    shares: tuple[Share, ...] = Field(default=(), max_length=1000)
    identifiers: tuple[WorkIdentifier, ...] = Field(default=(), max_length=100)

    @field_validator("iswc")
    @classmethod
    def _iswc(cls, v: str | None) -> str | None:
        return ids.parse_iswc(v) if v else None

    @model_validator(mode="after")
    def _disclosure_matches_mode(self) -> "Work":
        if self.creation_mode != CreationMode.HUMAN and self.disclosure is None:
            raise ValueError(
                f"a {self.creation_mode.value.replace('_', '-')} work needs a disclosure: "
                "the AI systems used, what the AI produced, what the humans contributed")
        if self.creation_mode == CreationMode.HUMAN and self.disclosure is not None:
            raise ValueError("a disclosure of AI use was given but creation_mode is 'human'; "
                             "set creation_mode to 'ai_assisted' or 'ai_generated'")
        return self
