"""Storage backends: one module per backend (PostgreSQL, DynamoDB, memory).

Registered in `model.storage_backends`, each says how `[tool.lambdapress.storage]` declares it,
which resources of the model it makes, what its functions may do with them, the variables that
find them locally and when deployed, how they render into a stack, and how `lambdapress db`
serves them locally.
"""
