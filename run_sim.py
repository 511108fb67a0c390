"""Run a scenario: ``python run_sim.py scenarios/av_trial_2023.yaml``.

This file only calls the CLI; see ``tomakomai-maas --help`` for every command.
"""

import sys

from tomakomai_maas.cli import main

if __name__ == "__main__":
    sys.exit(main())
