"""The pure engine: pricing, advice and (later) rating, metrics and statistics.

Nothing here imports Django or the apps; every function takes plain, typed values and
returns plain, typed values, so the same code serves the web, the API, the CLI and tests.
"""
