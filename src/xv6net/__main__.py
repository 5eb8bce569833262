"""`python -m xv6net ...` is the same as the `xv6net` command."""

import sys

from xv6net.cli import main

sys.exit(main())
