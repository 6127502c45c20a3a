"""What the people register tells the rest of the platform.

``persons_merging`` is sent (with ``actor``, ``keep`` and ``drop``) inside a merge's transaction,
before the rows that point at ``drop`` are moved to ``keep``: an app folds its own rows that would
then clash (two contacts of one case), or refuses the merge with ``Invalid`` naming ``drop_id``
(two open cases), and nothing is moved.
"""

from django.dispatch import Signal

persons_merging = Signal()
