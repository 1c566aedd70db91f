"""doxwatch's scanner: configuration, watchlist, storage, scheduling, the CLI."""

__version__ = "0.1.0"
