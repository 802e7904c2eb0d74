"""``python -m accel`` runs the ``fdaccel`` command line."""
import sys

from accel.cli import main

sys.exit(main())
