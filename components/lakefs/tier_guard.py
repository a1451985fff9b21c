"""What a sandbox branch checks about the tier it is created on, and how it names that tier.

Sandboxes hold the tier's admin key pair (lakeFS's free edition has one user), so the only thing that
keeps them off production data is the protection of the repository's default branch. A `Branch`
created with `requireProtectedDefault` therefore reads, before creating anything, the repository and
its protection rules (two GETs, whatever the data size) and refuses when no rule covers the default
branch. When the branch knows its tier stack (`tierStack`), that refusal and a rejected key pair
(HTTP 401) name the stack, its outputs and the command to run.
"""

from __future__ import annotations

from components.lakefs import errors
from components.lakefs.client import Session
from components.lakefs.protection import is_protected, protection_rules

CREDENTIAL_OUTPUTS = ("lakefsAccessKeyId", "lakefsSecretAccessKey")
"""The tier stack outputs a sandbox's lakeFS key pair comes from."""


def refuse_unless_default_protected(s: Session, repository: str, branch: str, tier_stack: str | None) -> None:
    """Raise `UnprotectedDefaultBranchError` unless a rule protects `repository`'s default branch.

    Args:
        s: An open session.
        repository: The repository the sandbox branch is for.
        branch: The sandbox branch about to be created (for the message).
        tier_stack: The tier stack that manages the repository, if known.
    """
    record = s.call(
        s.where("reading repository", repository),
        s.repositories.get_repository,
        repository,
        idempotent=True,
    )
    default = record.default_branch
    patterns, _ = protection_rules(s, repository)
    if is_protected(default, patterns):
        return
    rules = ", ".join(f"'{p}'" for p in sorted(patterns)) or "none"
    if tier_stack:
        remedy = (
            f"Tier stack '{tier_stack}' protects it: run `pulumi up --stack {tier_stack}`, check that it "
            "succeeds, then run `pulumi up` here again"
        )
    else:
        remedy = (
            f"Protect it (e.g. `lakectl branch-protect add lakefs://{repository}/ {default}`), then retry"
        )
    raise errors.UnprotectedDefaultBranchError(
        f"refusing to create sandbox branch '{branch}' in repository '{repository}' at lakeFS "
        f"{s.settings.display_endpoint}: the repository's default branch '{default}' is not protected "
        f"(its protection rules: {rules}), and a sandbox holds the tier's admin key, so it could write "
        f"to production data. {remedy}"
    )


def tier_credentials_hint(tier_stack: str | None) -> str | None:
    """What to say when lakeFS rejects a key pair that came from `tier_stack`'s outputs."""
    if not tier_stack:
        return None
    outputs = " and ".join(CREDENTIAL_OUTPUTS)
    return (
        f"this key pair is tier stack '{tier_stack}''s outputs {outputs}. Check that the tier's last "
        f"`pulumi up --stack {tier_stack}` succeeded and that its lakeFS accepts that pair, then run "
        "`pulumi up` here again: it reads the tier's outputs anew (`pulumi destroy` uses the ones of the "
        "last `pulumi up`)"
    )
