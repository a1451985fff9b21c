"""A stateful lakeFS test double speaking the real REST API over HTTP (see `server.py`)."""

from tests.lakefs_fake.server import FakeLakeFSServer, Faults
from tests.lakefs_fake.state import ApiError, FakeLakeFS

__all__ = ["ApiError", "FakeLakeFS", "FakeLakeFSServer", "Faults"]
