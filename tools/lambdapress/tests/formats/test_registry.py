"""The output-format registry: the built-ins, loaded on first use; formats of one's own."""

from __future__ import annotations

import subprocess
import sys

import pytest
from deploy.stacks import application as model
from deploy.stacks import config, entry, service

from lambdapress.deploy.template import template_body
from lambdapress.errors import ConfigError
from lambdapress.formats.registry import (
    BUILT_IN_FORMATS,
    OutputFormat,
    output_format,
    output_formats,
    register_output_format,
    resource_count,
    unregister_output_format,
)

from .rich import rich_application, rich_config


def test_the_built_in_formats_are_cloudformation_and_sam() -> None:
    formats = {f.name: f for f in output_formats()}
    assert set(formats) >= {"cloudformation", "sam"}
    assert (formats["cloudformation"].suffix, formats["sam"].suffix) == (".json", ".yaml")
    assert output_format("sam") is formats["sam"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
@pytest.mark.parametrize("bucket", ["acme-artifacts", None])
def test_the_cloudformation_format_is_the_template_deploy_deploys(
    stage: str, bucket: str | None
) -> None:
    """Byte for byte: `template` writes what `deploy` deploys."""
    application = rich_application()
    rendered = output_format("cloudformation").render(application, rich_config(), stage, bucket)
    assert rendered == template_body(application, rich_config(), stage, bucket)


def test_the_built_ins_are_imported_on_first_use_only() -> None:
    script = (
        "import sys\n"
        "from lambdapress.formats import registry\n"
        "before = sorted(m for m in sys.modules if m.startswith('lambdapress.formats.'))\n"
        "names = [f.name for f in registry.output_formats()]\n"
        "after = sorted(m for m in sys.modules if m.startswith('lambdapress.formats.'))\n"
        "print(before, names, after)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    expected = sorted(["lambdapress.formats.registry", *BUILT_IN_FORMATS])
    assert result.stdout.split("\n")[0] == (
        f"['lambdapress.formats.registry'] ['cloudformation', 'sam'] {expected}"
    )


def test_an_unknown_format_is_a_user_error_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError) as raised:
        output_format("terraform")
    assert "no output format named 'terraform' (known: cloudformation, sam" in str(raised.value)


def _listing(application: object, settings: object, stage: str, bucket: str | None) -> str:
    return f"{stage} {bucket}\n"


def test_a_format_of_one_s_own_is_offered_until_it_is_unregistered() -> None:
    listing = OutputFormat("listing", ".txt", "one line", _listing)
    assert register_output_format(listing) is listing
    try:
        assert register_output_format(listing) is listing  # the same object again: fine
        assert output_format("listing") is listing
        assert "listing" in [f.name for f in output_formats()]
        with pytest.raises(ValueError, match="'listing' is registered twice"):
            register_output_format(OutputFormat("listing", ".txt", "another", _listing))
    finally:
        unregister_output_format("listing")
    assert "listing" not in [f.name for f in output_formats()]


@pytest.mark.parametrize(
    ("name", "suffix", "problem"),
    [
        ("Sam", ".yaml", "lowercase letters"),
        ("", ".yaml", "lowercase letters"),
        ("sam", "yaml", "starts with a dot"),
        ("sam", ".", "starts with a dot"),
    ],
)
def test_a_format_s_name_and_suffix_are_checked(name: str, suffix: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        OutputFormat(name, suffix, "x", _listing)


def test_resource_count_reads_json_and_yaml_templates_and_nothing_else() -> None:
    application = model([entry("shop.ping", "GET /ping")], [service("shop")])
    cloudformation = output_format("cloudformation").render(application, config(), "dev", None)
    sam = output_format("sam").render(application, config(), "dev", None)
    assert resource_count(cloudformation) == 15  # API, stage, access logs; function, log group,
    # role, version, live alias, 3 alarms, integration, route, permission; the stage's dashboard
    assert resource_count(sam) == 9  # HTTP API, access logs; function, log group, role, 3 alarms;
    # the stage's dashboard
    assert resource_count('resource "aws_lambda_function" "x" {}\n') is None
    assert resource_count("[unclosed") is None
