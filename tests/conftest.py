"""Test-suite settings: hypothesis draws the same examples on every run (no example
database, examples derived from each test's name), so CI on a fresh clone runs exactly
what ran here."""

from hypothesis import settings

settings.register_profile("erasurelab", derandomize=True, database=None, print_blob=True)
settings.load_profile("erasurelab")
