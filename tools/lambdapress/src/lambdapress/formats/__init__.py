"""Output formats: the stage's template as CloudFormation or as a SAM template.

Registered in one place, each rendered from the application model and the stage's settings.
"""
