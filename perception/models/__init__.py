"""The offline model store: cards, fetching from pinned PyPI wheels, conversion, verification."""

from perception.models.cards import ModelCard
from perception.models.store import ModelStatus, ModelStore

__all__ = ["ModelCard", "ModelStatus", "ModelStore"]
