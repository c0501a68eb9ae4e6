"""EmoAnim: speech audio + emotion controls -> game-ready facial and body animation."""

__version__ = "0.1.0"
