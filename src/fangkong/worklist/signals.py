"""What the worklist tells the rest of the platform.

``item_closed`` is sent (with ``item``) inside the transaction that closes a work item — done by
hand, done by a rule, or cancelled — so that what depends on the item (a contact under control)
is kept in step with it.
"""

from django.dispatch import Signal

item_closed = Signal()
