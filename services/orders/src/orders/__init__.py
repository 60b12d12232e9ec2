"""The orders service: models, storage, one handler module per endpoint."""
