"""Suite-wide rules: tests marked `root` are skipped unless we are root."""

import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root (network namespaces, bridges, taps)")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)
