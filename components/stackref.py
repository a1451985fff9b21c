"""Fully qualified stack names for StackReferences."""

from __future__ import annotations


def qualify_stack_name(name: str, organization: str, project: str) -> str:
    """``stack`` -> ``org/project/stack``; ``org/stack`` -> ``org/project/stack``; full names unchanged.

    On DIY backends the organization is literally ``organization``, which is what
    ``pulumi.get_organization()`` returns there, so the same rule serves both backends.
    """
    parts = name.split("/")
    if len(parts) == 1:
        return f"{organization}/{project}/{name}"
    if len(parts) == 2:
        return f"{parts[0]}/{project}/{parts[1]}"
    return name
