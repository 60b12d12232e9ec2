"""Private package indexes: their configuration, credentials, pins and model-library sources.

A layer of its own under both the bundler (which fetches wheels from these indexes and ships
pinned versions) and the publisher (which uploads to them and edits the pins): reading only,
with tomllib, so `lambdapress package` loads neither tomlkit nor the publisher's modules.
"""
