"""Sound recordings: ISRC, duration, performers, and the works they embody."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from obra import ids
from obra.model.shares import Share
from obra.model.text import CodeText, OptionalCodeText, OptionalTitleText, PartyRef, TitleText
from obra.model.vocab import CreationMode, Role


class Performer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    party: PartyRef
    role: Role = Role.FEATURED_PERFORMER
    instrument: OptionalCodeText | None = None


class Recording(BaseModel):
    """A recording, pointing at registered works by their registration numbers or ISWCs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: TitleText
    isrc: OptionalCodeText | None = None
    duration_seconds: int | None = Field(default=None, ge=0, le=86_400)
    artist: OptionalTitleText | None = Field(default=None, description="display artist as printed on releases")
    album: OptionalTitleText | None = None
    performers: tuple[Performer, ...] = Field(default=(), max_length=1000)
    works: tuple[CodeText, ...] = Field(default=(), max_length=1000,
                                        description="registration numbers or ISWCs of embodied works")
    label: PartyRef | None = None
    creation_mode: CreationMode = CreationMode.HUMAN
    shares: tuple[Share, ...] = Field(default=(), max_length=1000)

    @field_validator("isrc")
    @classmethod
    def _isrc(cls, v: str | None) -> str | None:
        return ids.parse_isrc(v) if v else None
