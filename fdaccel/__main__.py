"""``python -m fdaccel`` runs the ``fdaccel`` command line."""
import sys

try:
    from fdaccel.cli import main
except KeyboardInterrupt:        # Ctrl-C while the command line itself is imported
    sys.stderr.write("fdaccel: interrupted\n")
    sys.exit(130)

sys.exit(main())
