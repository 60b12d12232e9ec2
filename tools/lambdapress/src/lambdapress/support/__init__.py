"""Primitives every layer shares.

Atomic files, verified folders, child processes and signals, server locks and the loopback
address local servers listen on, tool discovery (uv, Python interpreters) and crash logs.
"""
