"""What the worklist tells the rest of the platform.

``items_closed`` is sent (with ``items``, a list) inside the transaction that closes work items — done by
hand, done by a rule, or cancelled — so that what depends on the item (a contact under control)
is kept in step with it.
"""

from django.dispatch import Signal

items_closed = Signal()
