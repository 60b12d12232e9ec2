"""Primitives every layer shares.

Atomic files, verified folders, child processes and signals, server locks, tool discovery (uv,
Python interpreters) and crash logs.
"""
