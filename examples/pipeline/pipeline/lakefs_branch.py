"""``LakeFSBranch``: the one lakeFS branch a run reads from and writes to, as a Dagster resource.

Configured only from the wiring contract (see ``branch_from_environment``): Dagster resolves each
``EnvVar`` when a run starts, in the run pod, and shows the variable's name, never its value, in the
UI. Writes go to ``LAKEFS_BRANCH`` and nowhere else; there is deliberately no way to name another.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import lakefs_sdk

from pipeline import wiring

API_PATH = "/api/v1"


class LakeFSBranch(dg.ConfigurableResource):
    """Reads and writes of one lakeFS branch through the lakeFS API (``lakefs-sdk``)."""

    endpoint: str
    repository: str
    branch: str
    source_commit: str
    access_key_id: str
    secret_access_key: str

    @contextmanager
    def _api(self) -> Iterator[lakefs_sdk.ApiClient]:
        # A client per call: resources are copied into every run and step process.
        base = self.endpoint.rstrip("/")
        configuration = lakefs_sdk.Configuration(
            host=base if base.endswith(API_PATH) else base + API_PATH,
            username=self.access_key_id,
            password=self.secret_access_key,
        )
        with lakefs_sdk.ApiClient(configuration) as client:
            yield client

    def head(self) -> str:
        """The branch's head commit id: read at it, so one run sees one consistent snapshot."""
        with self._api() as client:
            ref = lakefs_sdk.BranchesApi(client).get_branch(self.repository, self.branch)
        return str(ref.commit_id)

    def read(self, commit: str, path: str) -> bytes:
        """An object's content at ``commit`` (from :meth:`head`), by its path relative to the branch."""
        with self._api() as client:
            return bytes(lakefs_sdk.ObjectsApi(client).get_object(self.repository, commit, path))

    def write(self, path: str, content: bytes) -> None:
        """Uploads an object to the branch, uncommitted until :meth:`commit`."""
        with tempfile.TemporaryDirectory() as scratch, self._api() as client:
            # lakefs-sdk uploads from a file path (multipart part "content").
            upload = Path(scratch) / Path(path).name
            upload.write_bytes(content)
            lakefs_sdk.ObjectsApi(client).upload_object(
                self.repository, self.branch, path, content=str(upload)
            )

    def commit(self, message: str, metadata: Mapping[str, str]) -> str:
        """Commits what was written; every commit names the snapshot it derives from."""
        creation = lakefs_sdk.CommitCreation(
            message=message,
            metadata={wiring.LAKEFS_SOURCE_COMMIT.lower(): self.source_commit, **metadata},
            date=None,
            allow_empty=None,
            force=None,
        )
        with self._api() as client:
            return str(lakefs_sdk.CommitsApi(client).commit(self.repository, self.branch, creation).id)


def branch_from_environment() -> LakeFSBranch:
    """The resource wired to the contract's variables (credentials from Secret ``lakefs-credentials``)."""
    return LakeFSBranch(
        endpoint=dg.EnvVar(wiring.LAKEFS_ENDPOINT),
        repository=dg.EnvVar(wiring.LAKEFS_REPOSITORY),
        branch=dg.EnvVar(wiring.LAKEFS_BRANCH),
        source_commit=dg.EnvVar(wiring.LAKEFS_SOURCE_COMMIT),
        access_key_id=dg.EnvVar(wiring.LAKEFS_ACCESS_KEY_ID),
        secret_access_key=dg.EnvVar(wiring.LAKEFS_SECRET_ACCESS_KEY),
    )
