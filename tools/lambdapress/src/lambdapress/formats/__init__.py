"""Output formats: the stage's template as CloudFormation or as a SAM template.

Registered by name in `formats.registry` (which imports the built-ins on first use), each
rendered from the application model and the stage's settings.
"""
