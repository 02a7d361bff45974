"""The root of Catalyst's exception hierarchy.

Every package defines its own specific exceptions (in a module named for its package, e.g.
``catalyst.market.errors``) deriving from :class:`CatalystError`, so a caller can catch
"anything Catalyst refused" without catching programming errors.
"""


class CatalystError(Exception):
    """Base class of every error Catalyst raises on purpose."""
