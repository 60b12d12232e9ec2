"""The application model: what a stage is made of, built once by `package`.

`dist/manifest.json` is its serialisation and the one contract between the bundler and every
target after it (the emulator, the template renderers, deploy, sync, destroy, bench).
"""
