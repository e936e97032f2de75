"""Statistical procedures behind the claims: one module per idea.

``split`` (the paper's largest-gap grouping), ``modality`` (dip test, 1-D mixture BIC, spread
ratio), ``power`` (simulated power of absence claims), ``piecewise`` (jump at a transition),
``association`` (rank association, paired and two-sample comparisons, stage growth),
``multiple`` (Holm, and the claims of one run placed in their family), ``verdict`` (the verdict
enum and what may change it), ``claim`` (pre-registration, results and ``decide``, the one place a
verdict is set), ``planted`` (known-answer fixtures) and ``controls`` (false-positive rate and power
of each procedure on those fixtures).
"""
