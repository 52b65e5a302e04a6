"""A FastAPI service, an example for pyship."""

__version__ = "1.2.0"
