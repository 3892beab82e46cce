"""Image Gallery: a centralized image library with a ThingsBoard-compatible API."""

__version__ = "0.1.0"
