"""Imported call records: the CDR files claimed for import and the rated calls.

A file is claimed once (``UNIQUE (source, sha256)``, insert-or-nothing) and its calls are
written in the same transaction that marks it done, so a worker killed mid-file leaves the
claim (re-claimable after ``RINGUP_CDR_CLAIM_TIMEOUT``) and no calls. A call is stored once
per source (``UNIQUE (source, cdr_id)``): re-importing a file, or a file that overlaps an
earlier one, adds nothing. A call records the invoice that billed it
(``billed_invoice_id``), so a call imported after its period was invoiced is billed on the
next invoice, and no call is billed twice.

A customer's phone numbers (``PhoneNumber``, their DIDs) tell inbound calls apart: a
call to a number the call's customer holds — or, when its account code is no customer's,
to a number anyone holds — is that holder's inbound call, stored with reason ``inbound``
and the number in ``did``: never charged (the retail deck prices outbound calls), counted
as the number's traffic.
"""

from django.db import models
from django.db.models import Q

from ringup.customers.models import Customer


class CdrFile(models.Model):
    """One CDR file's import: who claimed it, when, and what it gave."""

    class Status(models.TextChoices):
        CLAIMED = "claimed", "Claimed"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    source = models.CharField(max_length=100, help_text="The switch the file comes from.")
    path = models.CharField(max_length=1000)
    sha256 = models.CharField(max_length=64, help_text="Of the file's content.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CLAIMED)
    calls = models.PositiveIntegerField(default=0, help_text="Rows read.")
    imported = models.PositiveIntegerField(default=0, help_text="Calls stored (new).")
    duplicates = models.PositiveIntegerField(
        default=0, help_text="Calls already stored or repeated within the file."
    )
    unrated = models.PositiveIntegerField(default=0, help_text="New calls stored unrated.")
    error = models.CharField(max_length=500, blank=True)
    # Who holds the claim: a claim is won by the worker whose token the row carries.
    token = models.CharField(max_length=32)
    claimed_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "sha256"], name="usage_cdrfile_once")
        ]

    def __str__(self):
        return f"{self.source}: {self.path} ({self.status})"


# The calls an invoice bills and has not billed yet: rated and answered (unanswered calls
# cost nothing and make no line), no invoice set.
UNBILLED = Q(reason="", billed_seconds__gt=0, billed_invoice_id__isnull=True)


class RatedCall(models.Model):
    """One call of a CDR file, rated or with the reason it is not (never dropped).

    Money has 6 decimals, as the rating engine computes it; invoices round per line.
    """

    source = models.CharField(max_length=100)
    # Text: Asterisk ids derived from the whole record can be long (docs/cdr-formats.md).
    cdr_id = models.TextField(help_text="The call's id in its source.")
    cdr_file = models.ForeignKey(CdrFile, on_delete=models.PROTECT, related_name="rated_calls")
    account = models.CharField(max_length=80, blank=True)
    # Led by the (customer, start) index below: an index of its own would only be one
    # more to write for every call imported and every call marked billed.
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rated_calls",
        db_index=False,
    )
    dst = models.CharField(max_length=40, blank=True, help_text="Dialled, as in the CDR.")
    start = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="Billable seconds.")
    billed_seconds = models.PositiveIntegerField(null=True, blank=True)
    prefix = models.CharField(max_length=16, blank=True)
    description = models.CharField(max_length=100, blank=True)
    cost = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    carrier_cost = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    margin = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    reason = models.CharField(
        max_length=20,
        blank=True,
        help_text="Why the call is unrated (inbound: a call to the customer's number); "
        "empty when rated.",
    )
    did = models.CharField(
        max_length=16, blank=True, help_text="Inbound calls: the customer's number called."
    )
    # The invoice that billed the call (billing sits above usage, so no foreign key): set
    # once, by ``services.mark_billed`` in the transaction that writes the invoice.
    billed_invoice_id = models.BigIntegerField(
        null=True, blank=True, db_index=True, help_text="The invoice that billed the call."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "cdr_id"], name="usage_ratedcall_once")
        ]
        indexes = [
            # The portal and analytics read a customer's calls of a period.
            models.Index(fields=["customer", "start"]),
            # A bill run reads only the calls still to bill: the demo's mix has three
            # inbound or billed calls for each of them, each a heap row to skip otherwise.
            models.Index(
                fields=["customer", "start"], condition=UNBILLED, name="usage_ratedcall_unbilled"
            ),
        ]

    def __str__(self):
        return f"{self.source}/{self.cdr_id}"


class CallRestriction(models.Model):
    """A trial customer's calls (toll-fraud guard): only allowed destinations, up to a
    credit cap. Kept by the events consumer in ``usage.consumers``: a trial start writes
    it, the conversion or the end lifts it (``lifted_at``). Calls the import finds outside
    it are stored unrated with reason ``trial_blocked``, never billed.

    One row per subscription; a lift that arrives before its trial start still writes a
    lifted row, so the late start restricts nothing.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="call_restrictions"
    )
    subscription_id = models.BigIntegerField(unique=True)
    credit_cap = models.DecimalField(max_digits=12, decimal_places=2)
    allowed_prefixes = models.JSONField(default=list)
    blocked_prefixes = models.JSONField(
        default=list, help_text="Within allowed ones; the longest matching prefix decides."
    )
    since = models.DateTimeField(help_text="Calls from this instant on are restricted.")
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "lifted_at"])]

    def __str__(self):
        state = "lifted" if self.lifted_at else "active"
        return f"{self.customer_id}: cap {self.credit_cap} ({state})"


class PhoneNumber(models.Model):
    """A phone number (DID) a customer holds from ``assigned_at`` until ``released_at``.

    A number is held by one customer at a time (a partial unique constraint on the
    numbers not released); its inbound calls are recognised by the CDR import."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="phone_numbers")
    number = models.CharField(max_length=16, help_text="E.164 digits without +.")
    assigned_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["number"],
                condition=models.Q(released_at__isnull=True),
                name="usage_phonenumber_held_once",
            ),
            models.CheckConstraint(
                condition=models.Q(released_at__isnull=True)
                | models.Q(released_at__gt=models.F("assigned_at")),
                name="usage_phonenumber_released_after_assigned",
            ),
        ]
        indexes = [models.Index(fields=["customer", "released_at"])]

    def __str__(self):
        return f"+{self.number}"
