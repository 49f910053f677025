"""Where the bundled MovieLens-100K fixture lives.

The fixture (``complement.toml``, ``sem.npy``, ``cf.npy``, the ids, the interaction and item
tables, README and GroupLens license) ships inside the package as package data, in
``complement/fixtures/movielens-100k/``; a checkout also reaches it as
``fixtures/movielens-100k/`` (a symlink). ``$COMPLEMENT_FIXTURE`` points at another folder
laid out the same way and wins over the package data.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from complement.errors import InputError

__all__ = ["FIXTURE_ENV", "FIXTURE_NAME", "fixture_config", "fixture_dir"]

FIXTURE_ENV = "COMPLEMENT_FIXTURE"
FIXTURE_NAME = "movielens-100k"
_CONFIG = "complement.toml"


def _packaged() -> Path:
    """The fixture folder inside the installed package (a wheel or an editable checkout)."""
    # ``complement`` is a regular package installed as files, so the traversable is a real path.
    return Path(str(resources.files("complement") / "fixtures" / FIXTURE_NAME))


def fixture_dir() -> Path:
    """The fixture folder: ``$COMPLEMENT_FIXTURE`` if set, else the package data.

    Raises :class:`~complement.errors.InputError` when the chosen folder has no
    ``complement.toml``.
    """
    env = os.environ.get(FIXTURE_ENV)
    if env:
        path = Path(env)
        if (path / _CONFIG).is_file():
            return path
        raise InputError(
            f"the MovieLens fixture was not found: ${FIXTURE_ENV}={env} has no {_CONFIG}; "
            f"point {FIXTURE_ENV} at a folder holding the fixture, or unset it to use the copy "
            "bundled with complement"
        )
    path = _packaged()
    if (path / _CONFIG).is_file():
        return path
    raise InputError(
        f"the MovieLens fixture was not found: {path / _CONFIG} is missing from this "
        f"installation; reinstall complement from a wheel or a checkout, or set {FIXTURE_ENV} "
        "to a folder holding the fixture"
    )


def fixture_config() -> Path:
    """The fixture's ``complement.toml`` (see :func:`fixture_dir`)."""
    return fixture_dir() / _CONFIG
