"""The HTTP + WebSocket API (FastAPI on uvicorn) in front of the engine; no Qt here, so it runs headless."""

from engine.api.app import create_app
from engine.api.options import ApiOptions, UnsafeBinding, is_loopback
from engine.api.server import ApiServer

__all__ = ["ApiOptions", "ApiServer", "UnsafeBinding", "create_app", "is_loopback"]
