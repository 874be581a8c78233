"""The 360Giving Data Standard's schemas (in ../shared/testdata/360giving) as a validator."""

from __future__ import annotations

import json
from typing import Any

from shared_data import shared_dir, shared_missing


def package_validator() -> Any:
    """A draft 2020-12 validator of a 360Giving package, formats checked (date-time, uri)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    folder = shared_dir() / "testdata" / "360giving"
    if not folder.is_dir():
        shared_missing(f"the 360Giving schemas are not in {folder}")
    package = json.loads((folder / "360-giving-package-schema.json").read_text("utf-8"))
    grant = json.loads((folder / "360-giving-schema.json").read_text("utf-8"))
    # The schemas name their dialect by its http:// URL, which `referencing` does not know under
    # that name: say it is draft 2020-12. The package refers to the grant schema by the URL of
    # the previous release; both URLs are the local copy.
    resource = DRAFT202012.create_resource(grant)
    registry = Registry().with_resources([
        (grant["$id"], resource),
        (package["properties"]["grants"]["items"]["$ref"], resource),
    ])  # fmt: skip
    return Draft202012Validator(
        package, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
