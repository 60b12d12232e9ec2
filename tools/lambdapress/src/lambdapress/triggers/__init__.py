"""Trigger kinds: one module per kind (HTTP routes first), registered in `model.trigger_kinds`.

Each says how its trigger is declared next to the handler and validated at package time, how
the emulator delivers it locally, how it renders into a stack, and which permissions it
implies. The rest of the tool reaches a kind only through the registry.
"""
