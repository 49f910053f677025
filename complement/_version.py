"""The package version (read by setuptools and by ``complement --version``)."""

__version__ = "0.1.0"
