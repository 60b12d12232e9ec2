"""Real storage for local runs and tests: the servers, the migrations and `lambdapress db`.

`lambdapress db` (`local.py`) starts, once each, the local servers of the storage backends the
workspace's services declare (`model.storage_backends`; the built-in ones in
`lambdapress.backends` say what to start and prepare) and writes a state file (`state.py`);
`serve` and `invoke` turn that file into each function's environment (`environment.py`). The
machinery the backends and the test fixtures share lives here: PostgreSQL on 127.0.0.1
(`postgres.py`), its SQL migrations (`migrations.py`, `migration_sql.py`) and moto's server
with DynamoDB tables (`dynamodb.py`). Nothing here prints: the CLI (`cli/_db.py`) does.
"""
