"""`python -m helpline ...`: the same as the `helpline` command."""

import sys

from helpline.cli import main

if __name__ == "__main__":
    sys.exit(main())
