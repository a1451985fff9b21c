"""Warns when a sandbox's default code image was most likely never built.

Without ``sandbox:image`` a sandbox runs the tier's code image tagged with the checked-out commit,
which exists only once the pipeline's CI has built that commit, i.e. after it was pushed. A commit
that was never pushed, or a working tree with uncommitted changes, deploys an image that is missing
or lacks what the user sees locally. Neither is an error (CI may push from elsewhere; a user may
push in a minute), so this is a warning that names the tag that will be deployed.
"""

from __future__ import annotations

import pulumi

from components.config import SandboxStackConfig
from components.gitinfo import is_on_a_remote, uncommitted_paths

_SHOWN_PATHS = 3


def unpublished_image_warning(settings: SandboxStackConfig) -> str | None:
    """Why the commit-tagged default image may not be what the user expects, or None when it is.

    Only git on this machine is asked (no fetch): ``git status`` and the remote-tracking branches.
    """
    if settings.config.image is not None or settings.commit is None:
        return None
    directory = settings.checkout.directory
    reasons = []
    if is_on_a_remote(directory, settings.commit) is False:
        reasons.append(
            f"commit {settings.commit[:12]} is on no remote-tracking branch (not pushed, as far as this "
            "clone knows; nothing was fetched), so CI has most likely not built that image and the "
            "code server will not start"
        )
    changed = uncommitted_paths(directory)
    if changed:
        shown = ", ".join(changed[:_SHOWN_PATHS]) + (", ..." if len(changed) > _SHOWN_PATHS else "")
        reasons.append(
            f"the working tree has {len(changed)} uncommitted change(s) ({shown}), which that image "
            "does not contain"
        )
    if not reasons:
        return None
    return (
        f"sandbox:image is not set, so the code location will run the tier's codeImageRepository "
        f"tagged {settings.commit} (HEAD of {directory!r}); but {'; and '.join(reasons)}. "
        "Commit and push, let CI build the image, then run `pulumi up` again; or pin an image that "
        "exists with `pulumi config set sandbox:image <repository>:<tag>`."
    )


def warn_if_unpublished(settings: SandboxStackConfig) -> None:
    """Logs :func:`unpublished_image_warning` as a warning, if there is one."""
    warning = unpublished_image_warning(settings)
    if warning:
        pulumi.log.warn(warning)
