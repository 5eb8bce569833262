"""Suite-wide rules: tests marked `root` are skipped unless we are root; tests that
take the `nic_model` fixture run once per emulated card (`--nic-models`)."""

import os

import pytest

from xv6net import nics


def pytest_addoption(parser):
    parser.addoption("--nic-models", default="all",
                     help=f"cards for the tests that take nic_model: comma-separated of "
                          f"{','.join(nics.NAMES)}, or all (default: all)")


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root (network namespaces, bridges, taps)")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)


def pytest_generate_tests(metafunc):
    """Module scope: a module's guest boots once per card, and pytest runs the
    module's tests card by card."""
    if "nic_model" in metafunc.fixturenames:
        models = nics.models_arg(metafunc.config.getoption("nic_models"))
        metafunc.parametrize("nic_model", models, indirect=True, scope="module")


@pytest.fixture(scope="module")
def nic_model(request) -> str:
    """The card (an xv6net.nics name) this run of the test is for."""
    return request.param
