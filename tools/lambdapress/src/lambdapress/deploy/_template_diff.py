"""How a stack's deployed template differs from the one about to be deployed.

`sync` needs the differences with every function's `Code` set aside (and what its version
says of the code: its `CodeSha256` and the digest in its `Description`; anything else means a
deploy), and `deploy` needs the functions whose `Code` alone differs: after a `sync`, those
name the previous zips while the functions already run the new ones, and CloudFormation would
"change" them to what they already are.
"""

from __future__ import annotations

import copy
import json
from typing import Any

_CODE = "<code: set by sync>"


def parse_deployed(deployed: Any) -> dict[str, Any] | None:
    """The deployed template (`GetTemplate`'s dict or JSON text) as a dict; None for YAML."""
    if isinstance(deployed, str):
        try:
            deployed = json.loads(deployed)
        except ValueError:
            return None
    if not isinstance(deployed, dict):
        return None
    parsed: dict[str, Any] = json.loads(json.dumps(deployed))
    return parsed


def template_differences(deployed: Any, body: str, code_ids: set[str]) -> list[str]:
    """What differs between the deployed template and `body`, every function's Code aside.

    Top-level sections by name, resources as `<logical id> (added|removed|changed)`.
    """
    parsed = parse_deployed(deployed)
    if parsed is None:
        return ["the deployed template is not lambdapress's JSON"]
    old = _without_code(parsed, code_ids)
    new = _without_code(json.loads(body), code_ids)
    found: list[str] = []
    for section in sorted(set(old) | set(new)):
        if section != "Resources" and old.get(section) != new.get(section):
            found.append(section)
    before, after = old.get("Resources", {}), new.get("Resources", {})
    for logical_id in sorted(set(before) | set(after)):
        if logical_id not in before:
            found.append(f"{logical_id} (added)")
        elif logical_id not in after:
            found.append(f"{logical_id} (removed)")
        elif before[logical_id] != after[logical_id]:
            found.append(f"{logical_id} (changed)")
    return found


def _without_code(template: dict[str, Any], code_ids: set[str]) -> dict[str, Any]:
    result = copy.deepcopy(template)
    resources = result.get("Resources", {})
    for logical_id in code_ids:
        properties = resources.get(logical_id, {}).get("Properties")
        if isinstance(properties, dict) and "Code" in properties:
            properties["Code"] = _CODE
    for resource in resources.values():
        properties = resource.get("Properties")
        if (
            resource.get("Type") == "AWS::Lambda::Version"
            and isinstance(properties, dict)
            and properties.get("FunctionName") in [{"Ref": i} for i in code_ids]
        ):
            # The function's other properties are compared above: a version differing in more
            # than code differs there too.
            properties.update(CodeSha256=_CODE, Description=_CODE)
    return result


def code_differences(deployed: Any, body: str, code_ids: set[str]) -> set[str]:
    """The functions (logical ids in `code_ids`) whose `Code` differs between the two."""
    old = parse_deployed(deployed) or {}
    new = json.loads(body)
    differing: set[str] = set()
    for logical_id in code_ids:
        before = old.get("Resources", {}).get(logical_id, {}).get("Properties", {})
        after = new.get("Resources", {}).get(logical_id, {}).get("Properties", {})
        if before.get("Code") != after.get("Code"):
            differing.add(logical_id)
    return differing
