"""Sound recordings: ISRC, duration, performers, and the works they embody."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from obra import ids
from obra.model.shares import Share
from obra.model.vocab import CreationMode, Role


class Performer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    party: int | str
    role: Role = Role.FEATURED_PERFORMER
    instrument: str | None = None


class Recording(BaseModel):
    """A recording, pointing at registered works by their registration numbers or ISWCs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=500)
    isrc: str | None = None
    duration_seconds: int | None = Field(default=None, ge=0, le=86_400)
    artist: str | None = Field(default=None, description="display artist as printed on releases")
    album: str | None = None
    performers: tuple[Performer, ...] = ()
    works: tuple[str, ...] = Field(default=(), description="registration numbers or ISWCs of embodied works")
    label: int | str | None = None
    creation_mode: CreationMode = CreationMode.HUMAN
    shares: tuple[Share, ...] = ()

    @field_validator("isrc")
    @classmethod
    def _isrc(cls, v: str | None) -> str | None:
        return ids.parse_isrc(v) if v else None
