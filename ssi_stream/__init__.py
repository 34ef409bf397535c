"""ssi-stream: a transparent, quality-weighted Social Selling Index, computed continuously from activity."""

__version__ = "0.1.0"
