"""Configuration and naming: the repository as the team wrote it, and the rules it must meet.

The workspace (uv members), each service's `[tool.lambdapress]` settings, the project's answers
and name, and the facts they are checked against (Lambda's runtimes and limits, AWS's naming
rules, the template's name rules). Everything here reads files and validates them; nothing
builds, runs or deploys.
"""
