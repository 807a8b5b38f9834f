"""The fixed vocabulary of the rights field, as enumerations.

Values are lower-case strings so that JSON, CSV and the database all carry the same
words a rights administrator would write.
"""

from enum import StrEnum


class PartyKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class Role(StrEnum):
    """What a party is or does. A party can hold several roles."""

    AUTHOR = "author"
    COMPOSER = "composer"
    LYRICIST = "lyricist"
    ARRANGER = "arranger"
    TRANSLATOR = "translator"
    PERFORMER = "performer"
    FEATURED_PERFORMER = "featured_performer"
    NON_FEATURED_PERFORMER = "non_featured_performer"
    PRODUCER = "producer"
    PUBLISHER = "publisher"
    SUB_PUBLISHER = "sub_publisher"
    ADMINISTRATOR = "administrator"
    LABEL = "label"
    CMO = "cmo"
    NATIONAL_OFFICE = "national_office"
    AI_DEVELOPER = "ai_developer"


CREATOR_ROLES = frozenset({Role.AUTHOR, Role.COMPOSER, Role.LYRICIST, Role.ARRANGER,
                           Role.TRANSLATOR})
PERFORMER_ROLES = frozenset({Role.PERFORMER, Role.FEATURED_PERFORMER, Role.NON_FEATURED_PERFORMER})


class WorkKind(StrEnum):
    MUSICAL = "musical"
    LITERARY = "literary"
    AUDIOVISUAL = "audiovisual"
    VISUAL = "visual"


class CreationMode(StrEnum):
    """How a work came to be; copyright offices ask for this disclosure."""

    HUMAN = "human"
    AI_ASSISTED = "ai_assisted"
    AI_GENERATED = "ai_generated"


class RightType(StrEnum):
    PERFORMANCE = "performance"
    MECHANICAL = "mechanical"
    MAKING_AVAILABLE = "making_available"
    REPRODUCTION = "reproduction"
    SYNCHRONISATION = "synchronisation"
    NEIGHBOURING = "neighbouring"
    EQUITABLE_REMUNERATION = "equitable_remuneration"
    AI_TRAINING = "ai_training"


class AgreementKind(StrEnum):
    ASSIGNMENT = "assignment"
    EXCLUSIVE_LICENCE = "exclusive_licence"
    NON_EXCLUSIVE_LICENCE = "non_exclusive_licence"
    ADMINISTRATION = "administration"
    SUB_PUBLISHING = "sub_publishing"
    RECORDING_CONTRACT = "recording_contract"


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    CORRECTED = "corrected"
    WITHDRAWN = "withdrawn"


class AccessRole(StrEnum):
    """Roles of authenticated principals (who may do what through the CLI and API)."""

    PUBLIC = "public"
    REGISTRANT = "registrant"
    OFFICE_STAFF = "office_staff"
    CMO = "cmo"
    AI_DEVELOPER = "ai_developer"
    CREATOR = "creator"
    ADMIN = "admin"
