"""C10 — ViT and MLP-Mixer: no modes in initial blocks, low/high-density structure in some deeper
blocks (paper Figs. A.9, A.10).

"Initial layers in ViT and Mixer-MLP models do not display any unexpected structure in class
conditional distributions of neural representations ... we observe layers where class
representations display structure similar to the one observed in ResNets, namely low- and
high-density modes."

Decided by :func:`modes.decisions.transformers.decide_transformers` under both density
measurements and on their matched nulls (:func:`modes.decisions.on_scenario.transformers`).

The paper fine-tunes ImageNet-pretrained (SAM) ViT-B/16 and Mixer-B/16; the record says, per
backbone, whether it started from a pretrained file (``--modes-pretrained``) or was trained from
scratch.
"""

from __future__ import annotations

import attrs

from modes.decisions.on_scenario import transformers
from modes.decisions.transformers import PREREG
from modes.evidence import assert_replicated, profile_panel
from modes.report.specs import FigureSpec


def test_transformers_modes_only_in_deeper_blocks(modes_scenario, record_claim, requires,
                                                  record_sensitivity) -> None:
    labels = modes_scenario.dataset.train_labels.numpy()
    names = list(modes_scenario.config.transformers)
    with requires(PREREG):  # a scenario without the transformers stops here
        for name in names:
            modes_scenario.layer_densities(name)
    record_sensitivity("C10")
    result = transformers(modes_scenario)
    starts = {name: modes_scenario.initialization(name) for name in names}
    scratch = [name for name, how in starts.items() if not how.startswith("pretrained")]
    extra = {"initialization": starts}
    if scratch:
        extra["initialization_note"] = (
            f"{', '.join(scratch)} trained from scratch, not fine-tuned from ImageNet-pretrained "
            f"(SAM) weights as in the paper (give them with --modes-pretrained NAME=PATH)")
    result = attrs.evolve(result, details={**result.details, **extra})
    figures = tuple(
        FigureSpec("class_density_profiles", f"figA9_A10_{name}",
                   {"panels": {ld.layer: {**profile_panel(ld.log_density, labels),
                                          "flagged": ld.diagnostics.flagged}
                               for ld in modes_scenario.layer_densities(name)},
                    "title": f"Class-conditional log-densities, {name} (Figs. A.9, A.10)"})
        for name in names)
    result = record_claim(result, figures)
    assert_replicated(result)
