"""The one thing pyproject.toml cannot say: find app, ui and engine, and add resources/ as a renamed package.

resources/ stays the repository's folder of data files (pairs.json); installed, it is the package
`dexdesk_resources`, so the engine reads it with importlib.resources from a wheel and from a checkout alike.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["app", "app.*", "ui", "ui.*", "engine", "engine.*"]), "dexdesk_resources"],
    package_dir={"dexdesk_resources": "resources"},
)
