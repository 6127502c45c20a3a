"""What the cases app tells the rest of the platform.

``case_registered`` is sent (with ``actor``, ``case``) inside the transaction that registers a
case, so that the apps above cases end what the person no longer needs: their live quarantine
orders are converted (the person is now followed as a case) and those orders' work ends with them.
The cases app cannot call them itself (the layers point one way, DESIGN.md §2).
"""

from django.dispatch import Signal

case_registered = Signal()
