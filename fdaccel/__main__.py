"""``python -m fdaccel`` runs the ``fdaccel`` command line."""
import sys

try:
    from fdaccel.cli import main
    status = main()
except KeyboardInterrupt:        # Ctrl-C while the command line is imported, or as main returns
    sys.stderr.write("fdaccel: interrupted\n")
    status = 130
sys.exit(status)
