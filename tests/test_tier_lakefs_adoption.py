"""A tier adopting a lakeFS that is already set up, and its repository; the contract it publishes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from components.config.model import ConfigModel
from components.config.sandbox import SandboxConfig
from components.config.tier import LAKEFS_SETTINGS, TierConfig
from tests.conftest import PROJECT_ROOT, ProgramFailed, SecretValue
from tests.tier_support import tier_run

SETUP = "pulumi-python:dynamic/lakefs:Setup"
REPOSITORY = "pulumi-python:dynamic/lakefs:Repository"
EXISTING_KEY_ID = "AKIAEXISTINGLAKEFS01"
EXISTING_SECRET = "existing-lakefs-secret-never-shown"
EXISTING_NAMESPACE = "s3://existing-lake/pipeline"


def _adopting(**lakefs: Any) -> dict[str, Any]:
    values = {
        "endpoint": "http://127.0.0.1:8001",
        "accessKeyId": EXISTING_KEY_ID,
        "secretAccessKey": EXISTING_SECRET,
        **lakefs,
    }
    return {"tier:lakefs": SecretValue(values)}


def _refused(config: dict[str, Any]) -> str:
    with pytest.raises(ProgramFailed) as failure:
        tier_run("dev", config)
    assert failure.value.resources == [], "a resource was declared before validation finished"
    message = str(failure.value.error)
    assert EXISTING_SECRET not in message and EXISTING_KEY_ID not in message
    return message


def test_an_existing_lakefs_is_adopted_with_its_key_pair_and_repository() -> None:
    run = tier_run("dev", _adopting(storageNamespace=EXISTING_NAMESPACE))

    assert not {"tier-lakefs-admin-key-id", "tier-lakefs-admin-secret"} & {r.name for r in run.resources}
    setup = run.one(SETUP)
    assert setup.inputs["connection"]["accessKeyId"] == EXISTING_KEY_ID
    assert setup.inputs["connection"]["secretAccessKey"] == EXISTING_SECRET
    assert "connection" in setup.secret_inputs
    assert run.one(REPOSITORY).inputs["storageNamespace"] == EXISTING_NAMESPACE
    assert run.outputs["lakefsAccessKeyId"] == EXISTING_KEY_ID
    assert run.outputs["lakefsSecretAccessKey"] == EXISTING_SECRET
    assert {"lakefsAccessKeyId", "lakefsSecretAccessKey"} <= run.secret_outputs
    assert not {"lakefsRepository", "lakefsDefaultBranch"} & run.secret_outputs


def test_by_default_the_key_pair_is_generated_and_the_repository_lives_in_the_tier() -> None:
    run = tier_run("dev")
    generated = {r.name for r in run.resources if r.type.startswith("random:")}
    assert {"tier-lakefs-admin-key-id", "tier-lakefs-admin-secret"} <= generated
    assert run.one(REPOSITORY).inputs["storageNamespace"] == "s3://lakefs/pipeline"
    assert run.one(SETUP).inputs["connection"]["accessKeyId"] == "AKIAgenerated-tier-lakefs-admin-key-id"


def test_the_tiers_lakefs_resources_name_the_settings_their_inputs_come_from() -> None:
    run = tier_run("dev")
    assert run.one(SETUP).inputs["settingNames"] == LAKEFS_SETTINGS
    assert run.one(REPOSITORY).inputs["settingNames"] == LAKEFS_SETTINGS


def _is_setting(name: str) -> bool:
    """Whether `tier:a.b` or `sandbox:a.b` names a key the config models accept."""
    namespace, _, path = name.partition(":")
    model: Any = {"tier": TierConfig, "sandbox": SandboxConfig}.get(namespace)
    for part in path.split("."):
        if (
            not (isinstance(model, type) and issubclass(model, ConfigModel))
            or part not in model.accepted_keys()
        ):
            return False
        field = next(f for alias, f in model.model_fields.items() if (f.alias or alias) == part)
        model = field.annotation
    return True


def test_every_setting_a_lakefs_refusal_can_name_exists() -> None:
    named = set(LAKEFS_SETTINGS.values())
    for source in (PROJECT_ROOT / "components" / "lakefs").glob("*.py"):
        named |= set(re.findall(r"\b(?:tier|sandbox):[A-Za-z][\w.]*\w", source.read_text()))
    assert {"tier:lakefs.endpoint", "sandbox:discardUncommitted"} <= named  # the scan finds them
    assert [name for name in sorted(named) if not _is_setting(name)] == []
    assert not _is_setting("tier:lakefs.noSuchKey")  # the check itself can fail


@pytest.mark.parametrize(
    ("lakefs", "expected"),
    [
        (
            {"accessKeyId": EXISTING_KEY_ID},
            "tier:lakefs: tier:lakefs.accessKeyId and tier:lakefs.secretAccessKey go together",
        ),
        (
            {"accessKeyId": "AKIA EXISTING", "secretAccessKey": EXISTING_SECRET},
            "tier:lakefs.accessKeyId: expected an access key id without spaces",
        ),
        (
            {"accessKeyId": EXISTING_KEY_ID, "secretAccessKey": ""},
            "tier:lakefs.secretAccessKey: expected the secret access key",
        ),
        ({"storageNamespace": "existing-lake/pipeline"}, "tier:lakefs.storageNamespace: string should match"),
    ],
)
def test_bad_adoption_settings_are_refused_by_name(lakefs: dict[str, Any], expected: str) -> None:
    assert expected in _refused({"tier:lakefs": SecretValue(lakefs)})


def test_a_key_pair_in_plain_config_is_refused_without_echoing_it() -> None:
    plain = {"tier:lakefs": {"accessKeyId": EXISTING_KEY_ID, "secretAccessKey": EXISTING_SECRET}}
    message = _refused(plain)
    for key in ("accessKeyId", "secretAccessKey"):
        assert (
            f"tier:lakefs.{key}: must be set as a secret, not in plain text: "
            f"`pulumi config set --secret --path tier:lakefs.{key} <value>`"
        ) in message


def test_the_lakefs_contract_waits_for_setup_repository_and_protection() -> None:
    # Under mocks every resource succeeds; what matters is which resource each output comes from.
    run = tier_run("dev")
    assert run.outputs["lakefsRepository"] == "pipeline"
    assert run.outputs["lakefsDefaultBranch"] == "main"
    assert re.fullmatch(r"AKIA.+", run.outputs["lakefsAccessKeyId"])
