"""`python -m agentgraph` is the same as the `agentgraph` command."""

import sys

from agentgraph.cli import main

sys.exit(main())
