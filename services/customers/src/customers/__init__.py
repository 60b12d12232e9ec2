"""The customers service: models, storage, one handler module per endpoint."""
