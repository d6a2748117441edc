"""Production settings pass Django's deployment checklist (``check --deploy``)."""

import os
import subprocess
import sys

import pytest

PRODUCTION = {
    "RINGUP_HTTPS": "true",
    "RINGUP_SECRET_KEY": "k3#Vq9!rT2pZ7wX4mN8bL1cF6hJ0sD5gA-yU_eR@iO%tW^zQ&vB*nM(xC)kP+lH",
    "RINGUP_ALLOWED_HOSTS": "pbx.operator.example",
    "RINGUP_PUBLIC_URL": "https://pbx.operator.example",
}


def deploy_check(tmp_path, **overrides) -> subprocess.CompletedProcess:
    # What a production machine would not have: debug, or the browser tests' async opt-out.
    dropped = {"RINGUP_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update({"RINGUP_DATA_DIR": str(tmp_path), **PRODUCTION, **overrides})
    return subprocess.run(
        [sys.executable, "-m", "ringup.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
    )


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = deploy_check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("override", "check"),
    [({"RINGUP_HTTPS": "false"}, "security.W008"), ({"RINGUP_DEBUG": "true"}, "security.W018")],
)
def test_the_check_still_catches_an_unsafe_setting(tmp_path, override, check):
    result = deploy_check(tmp_path, **override)
    assert result.returncode != 0
    assert check in result.stderr
