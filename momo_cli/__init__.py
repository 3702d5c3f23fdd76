"""momo-cli: a command-line tool and local emulator for the MTN MoMo Open API."""

__version__ = "0.1.0"
