"""papersite: turn raw research-paper listings into a static website."""

__version__ = "0.1.0"
