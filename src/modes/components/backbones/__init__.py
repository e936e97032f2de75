"""Backbones (kind ``"backbone"``): ResNet18/50, the plain 8-layer CNN control, ViT, MLP-Mixer.

Every factory has the signature ``build(num_classes, width=1.0, stem="cifar", **options)`` and
returns a :class:`TappedNetwork` (a :class:`~modes.components.protocols.Backbone`).
"""

from modes.components.backbones import mixer, plain_cnn, resnet, vit
from modes.components.backbones.base import BackboneSpec, TappedNetwork, stem_for

__all__ = ["BackboneSpec", "TappedNetwork", "mixer", "plain_cnn", "resnet", "stem_for", "vit"]
