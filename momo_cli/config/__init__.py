"""Configuration: where files live (paths), the profile store (store), resolved settings (settings).

Importing this package, `paths`, `keys` or `store` costs only the standard library; `settings` imports
pydantic-settings lazily, and only when a `.env` file is there to parse.
"""
