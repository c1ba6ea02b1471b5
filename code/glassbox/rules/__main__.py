"""`python -m glassbox.rules RULE …`: train a glass-box model on a rule and write every figure (see `cli`)."""

import sys

from glassbox.rules.cli import main

sys.exit(main())
