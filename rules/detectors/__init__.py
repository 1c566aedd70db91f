"""One small detector class per kind of identifier; :mod:`rules.registry` lists them."""
