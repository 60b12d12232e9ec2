"""Shared model libraries as private packages: build, check, publish, consume.

The pipeline, one module per concern:

- `_build`: reproducible sdist and wheel through PEP 517; `_metadata`: what may be uploaded;
- `_simple`: what an index already has; `_schemas` and `_compat`: the models' compatibility gate;
- `plan`: the pure decision per package; `publisher`: the pipeline; `_upload`: twine; `_tags`;
- `pins`, `models`, `models_plan`, `_models_lock`: services on published versions (edits of
  their pyprojects, with tomlkit); `models_gate`: comparing two published versions;
- `pypiserver`: a local index; `cli`, `models_cli`: the commands.

Index configuration, credentials, and reading pins and model sources are `lambdapress.indexes`,
a layer below, shared with the bundler. Import from the modules themselves: this package
imports nothing, so that a command loads twine, build or tomlkit only when it publishes or
edits a pyproject (`publish`, `models`, `pin`, `new --models`), never to package or serve.
"""
