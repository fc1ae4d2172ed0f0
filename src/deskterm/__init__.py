"""deskterm: a keyboard-first support desk in the terminal."""

__version__ = "0.1.0"
