"""Real storage for local runs and tests: PostgreSQL and moto's DynamoDB on 127.0.0.1.

`lambdapress db` (`local.py`) starts what the workspace's services declare in their
`[tool.lambdapress.storage]`, creates each one's database (applying its SQL migrations) or
tables, and writes a state file; `serve` and `invoke` turn that file into each function's
environment (`environment.py`). The test fixtures start the same servers (`postgres.py`,
`dynamodb.py`) in temporary folders. Nothing here prints: the CLI (`cli.py`) does.
"""
