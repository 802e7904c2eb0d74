"""``python -m fdaccel`` runs the ``fdaccel`` command line."""
import sys

from fdaccel.cli import main

sys.exit(main())
