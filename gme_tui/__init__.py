"""gme-tui: a keyboard-driven console for Tencent Cloud GME voice recording."""

__version__ = "0.1.0"
