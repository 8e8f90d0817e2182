"""``python -m autograder``: the same command as ``autograder`` (``autograder.cli``)."""
import sys

from autograder.cli import main

sys.exit(main())
