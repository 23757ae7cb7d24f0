"""The real-time service (``personas serve``): a FastAPI app over a saved model and a
profile store (install with ``pip install 'personas[serve]'``)."""

from personas.serve._app import create_app
from personas.serve._engine import Engine, ServiceError

__all__ = ["Engine", "ServiceError", "create_app"]
