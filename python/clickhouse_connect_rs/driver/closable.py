"""``with`` support shared by the objects that have a ``close()``."""


class Closable:
    """Closes on leaving a ``with`` block; ``close()`` does nothing unless a subclass says otherwise."""

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
