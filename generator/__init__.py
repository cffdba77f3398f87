"""papersite: turn raw research-paper listings into a static website."""

from generator.native import use_compiled

__version__ = "0.1.0"

# the modules compiled for exactly these sources, if built (see native.py): generator.phrases
use_compiled(__name__, __path__)
