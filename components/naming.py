"""Names a sandbox gets from its git branch: lakeFS branch id, Kubernetes namespace, label value.

One string serves all three, because each of them must match the strictest rule of the set:
lakeFS branch ids ``^\\w[-\\w]*$``, DNS-1123 labels ``[a-z0-9]([-a-z0-9]*[a-z0-9])?`` and label values,
each at most 63 characters.

The mapping is injective, deterministic and readable:
- a branch that already is such a slug (``fix-42``) maps to ``sbx-fix-42``, untouched;
- any other branch (``feature/X``, ``HEAD``, unicode, 250 characters) maps to ``sbx-<slug>--<hash>``,
  where ``<slug>`` is a readable, possibly cut, lower-case rendering and ``<hash>`` is a stable hash
  of the exact branch name. A slug never contains ``--``, so a lossless name can never equal a
  lossy one, and two lossy names differ unless the hash collides (40 bits).
- The ``sbx-`` prefix keeps every sandbox off the tier's default branch (``main``) and makes sandbox
  namespaces easy to spot and to select.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

PREFIX = "sbx-"
MAX_NAME_LENGTH = 63
HASH_LENGTH = 10
_HASH_SEPARATOR = "--"
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_MAX_LOSSLESS = MAX_NAME_LENGTH - len(PREFIX)
_MAX_LOSSY_SLUG = MAX_NAME_LENGTH - len(PREFIX) - len(_HASH_SEPARATOR) - HASH_LENGTH


@dataclass(frozen=True)
class SandboxNames:
    """Every name derived from one git branch."""

    git_branch: str
    slug: str
    """The shared DNS-1123 / lakeFS-safe name, e.g. ``sbx-feature-x--1a2b3c4d5e``."""

    @property
    def lakefs_branch(self) -> str:
        return self.slug

    @property
    def namespace(self) -> str:
        return self.slug

    @property
    def label_value(self) -> str:
        return self.slug


def sandbox_names(git_branch: str) -> SandboxNames:
    """Derives the sandbox names for ``git_branch``; the same input gives the same names anywhere.

    Raises:
        ValueError: the branch name is empty.
    """
    if not git_branch:
        raise ValueError("a git branch name must not be empty")
    if len(git_branch) <= _MAX_LOSSLESS and _SLUG.match(git_branch):
        return SandboxNames(git_branch, PREFIX + git_branch)
    readable = _readable_slug(git_branch)[:_MAX_LOSSY_SLUG].rstrip("-")
    digest = hashlib.sha256(git_branch.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_LENGTH]
    return SandboxNames(git_branch, f"{PREFIX}{readable}{_HASH_SEPARATOR}{digest}")


def _readable_slug(text: str) -> str:
    """Lower-case ASCII letters and digits, with single dashes for everything else."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
