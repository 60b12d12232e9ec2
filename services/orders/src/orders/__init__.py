"""The orders service: its models, its storage and one handler module per endpoint."""
