"""Secret test values that never show up in test output, and a leak check that does not leak.

pytest prints the repr of every value in a failing assertion (a provider's `outs` carries the whole
connection, key pair included) and of bound methods' instances. `SecretText` behaves as the string
everywhere a program uses it (comparison, formatting, JSON, HTTP auth) but its repr shows no
character of it. `assert_not_shown` checks text for secrets and, when it finds one, fails naming only
where it was found: an `assert secret not in text` would print the text, secret included.

This module is neither a test module nor a conftest, so pytest does not rewrite its asserts.
"""

from __future__ import annotations


class SecretText(str):
    """A secret value: the string itself to code, `'<secret>'` to repr (and so to pytest)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<secret>'"


def assert_not_shown(text: str, *secrets: str, where: str = "the output") -> None:
    """Fail if any of `secrets` occurs in `text`; the failure message contains neither.

    Args:
        text: What a user would see (exception text, logs, captured output).
        *secrets: The secret values that must not appear.
        where: What `text` is, for the failure message.
    """
    shown = [index for index, secret in enumerate(secrets) if secret and secret in text]
    if shown:
        raise AssertionError(f"secret number(s) {shown} of {len(secrets)} appear in {where}")
