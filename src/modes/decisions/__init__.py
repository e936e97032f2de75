"""One pure decision function per claim: typed inputs -> :class:`~modes.stats.claim.ClaimResult`.

The claim tests compute the inputs and call these; the controls and the matched nulls call the very
same functions, so what is measured for size and power is what decides.
"""
