"""Shared model libraries as private packages: build, check, publish, consume.

The pipeline, one module per concern:

- `indexes`: `[tool.lambdapress.indexes]` of the root pyproject; `credentials` and
  `codeartifact` turn an entry into URLs and credentials (`ResolvedIndex`);
- `build`: reproducible sdist and wheel through PEP 517; `metadata`: what may be uploaded;
- `simple`: what an index already has; `schemas` and `compat`: the models' compatibility gate;
- `plan`: the pure decision per package; `publisher`: the pipeline; `upload`: twine; `tags`;
- `pins`: a service on a published version; `pypiserver`: a local index; `cli`: the commands.

Import from the modules themselves: this package imports nothing, so that the `lambdapress`
command does not load twine, build or tomlkit unless it publishes.
"""
