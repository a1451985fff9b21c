"""Sandbox names derived from git branch names: valid everywhere they land, distinct, deterministic."""

from __future__ import annotations

import re
import subprocess

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from components.gitref import is_valid_git_branch
from components.naming import MAX_NAME_LENGTH, sandbox_names

LAKEFS_BRANCH = re.compile(r"^\w[-\w]*$", re.ASCII)
DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

adversarial = st.one_of(
    st.text(min_size=1, max_size=300),
    st.text(alphabet="aAbB-_./", min_size=1, max_size=80),
    st.from_regex(r"[-a-z0-9]{1,120}", fullmatch=True),
)


def assert_valid(name: str) -> None:
    assert LAKEFS_BRANCH.match(name), name
    assert DNS_1123_LABEL.match(name), name
    assert LABEL_VALUE.match(name), name
    assert len(name) <= MAX_NAME_LENGTH
    assert name != "main"


@given(adversarial)
@example("HEAD")
@example("main")
@example("-leading-dash")
@example("x" * 250)
@example("féature/ünïcode-分支")
@example("🙂")
def test_every_branch_name_maps_to_a_valid_name(branch: str) -> None:
    assert_valid(sandbox_names(branch).slug)


@given(adversarial, adversarial)
@example("Feature/X", "feature/x")
@example("feature/x", "feature-x")
@example("feature.x", "feature_x")
@example("a" * 250, "a" * 249)
@example("HEAD", "head")
def test_distinct_branches_get_distinct_names(first: str, second: str) -> None:
    if first != second:
        assert sandbox_names(first).slug != sandbox_names(second).slug


@given(adversarial)
def test_names_are_deterministic(branch: str) -> None:
    assert sandbox_names(branch) == sandbox_names(branch)


def test_known_names_are_stable_across_machines() -> None:
    # Pinned values: a change here renames every existing sandbox (new namespace, new lakeFS branch).
    assert sandbox_names("fix-42").slug == "sbx-fix-42"
    assert sandbox_names("main").slug == "sbx-main"
    assert sandbox_names("feature/X").slug == "sbx-feature-x--" + _sha("feature/X")


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:10]


@pytest.mark.parametrize(
    ("branch", "readable"),
    [("feature/orders-v2", "sbx-feature-orders-v2--"), ("Jira-123_fix", "sbx-jira-123-fix--")],
)
def test_names_stay_readable(branch: str, readable: str) -> None:
    assert sandbox_names(branch).slug.startswith(readable)


def test_long_names_are_cut_but_stay_distinct() -> None:
    base = "feature/" + "x" * 200
    first, second = sandbox_names(base + "1").slug, sandbox_names(base + "2").slug
    assert len(first) == MAX_NAME_LENGTH
    assert first != second


def test_empty_branch_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        sandbox_names("")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=30))
@example("HEAD")
@example("feature/x.lock")
@example("a..b")
@example("-x")
@example("x/")
@example("@")
@example("a@{b")
@example(".hidden")
def test_git_branch_validation_agrees_with_git(name: str) -> None:
    git = subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True, check=False)
    # git's --branch mode answers "HEAD" and "@" (both mean the current HEAD) with success on some
    # versions; as a sandbox branch they name nothing stable, so we always refuse them.
    if name in ("HEAD", "@"):
        assert not is_valid_git_branch(name)
        return
    assert is_valid_git_branch(name) == (git.returncode == 0), name
