"""Shared fixtures of the unlearn.t2i tests: the shipped model and its UCE erasure, loaded
once per worker (pytest-xdist runs this directory's files on one worker: ``--dist
loadfile`` keeps a file together, and the fixtures are session-scoped)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def model():
    from unlearn.t2i import pretrained

    return pretrained("digits")


@pytest.fixture(scope="session")
def uce_seven(model):
    from unlearn.t2i import erase

    return erase(model, "seven", method="uce")
