"""`python -m bot.sandbox`: kept for existing scripts; the sandbox is `python -m fakes.sandbox`."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    try:
        from fakes.sandbox import main
    except ImportError as exc:  # the Docker image and a plain `pip install .` leave the fakes out
        sys.exit(f'The sandbox needs the fakes: pip install -e ".[sandbox]" ({exc})')
    sys.exit(main())
