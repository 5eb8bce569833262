"""The samples in README.md and docs/ still have the shape of what their commands
print: every recipe runs for real (root ones only as root) and is compared with
its block (see xv6net.docs). `make docs` rewrites the blocks when this fails."""

import os
from pathlib import Path

import pytest
from guestnet import INITRD, KERNEL, ROOT, require_kernel

from xv6net import docs

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(600)
def test_samples_match_their_commands(monkeypatch):
    require_kernel()
    monkeypatch.chdir(ROOT)
    paths = [Path(p) for p in docs.DOCS]
    used = {b.name for _, _, blocks in docs.documents(paths) for b in blocks}
    assert used == set(docs.RECIPES), "a recipe no document uses, or the reverse"
    # Relative paths, as `make docs` uses: they appear in the samples.
    ctx = docs.Context(KERNEL.relative_to(ROOT), INITRD.relative_to(ROOT))
    report = docs.update(paths, ctx, check=True)
    assert not report.drifted, "samples drifted from their commands (run make docs):\n" + \
        "\n".join(report.drifted)
    if os.geteuid() != 0:
        assert all("needs root" in s for s in report.skipped)
