"""Pretrained weights for a backbone, read from a local file (the appendix's ViT-B/16, Mixer-B/16).

The appendix: "we took the ViT-B/16 and Mixer-B/16 models pre-trained on the ImageNet dataset with
Sharpness-aware Minimization (Foret et al. 2021) and fine-tuned them to CIFAR100 and Mini-ImageNet
classes." Nothing is downloaded here: the weights come from a file the user names (``pretrained=``
of the ``vit`` and ``mixer`` factories; ``--modes-pretrained vit=PATH,mixer=PATH`` for the claims).

Accepted files: a torch state dict saved with ``torch.save`` (``.pt``, ``.pth``, ``.bin``; also one
wrapped under ``"state_dict"``, ``"model"`` or ``"state_dict_ema"``, or prefixed ``module.``) or a
``.safetensors`` file, with the backbone's own key names or timm's. timm's checkpoints (e.g.
``vit_base_patch16_224.sam_in1k``, ``mixer_b16_224``; save ``timm.create_model(...,
pretrained=True).state_dict()`` where there is internet) load directly into the Mixer, which is
timm's ``MlpMixer``; timm's ViT keys are renamed to torchvision's (:func:`timm_vit_to_torchvision`).
JAX ``.npz`` files of google-research/vision_transformer are not read: convert them with timm.

The classification head is loaded when its shape fits the number of classes and is left at its
fresh initialisation otherwise (fine-tuning to a new label set). Every other parameter must match
exactly: a missing, unexpected or differently shaped key is an error that names it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs
import torch
from torch import nn

StateDict = dict[str, torch.Tensor]
_WRAPPERS = ("state_dict", "model", "state_dict_ema")
_SHOWN = 8  # keys named per kind of mismatch in an error message


@attrs.frozen
class PretrainedLoad:
    """What :func:`load_pretrained` did: the file (absolute path, sha256), the parameters it set,
    and the head parameters left at their fresh initialisation."""

    path: str
    sha256: str
    loaded: tuple[str, ...]
    head_reinitialised: tuple[str, ...]


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes (the identity of a pretrained file in cache keys)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_state_dict(path: str | Path) -> StateDict:
    """The tensors of a torch or safetensors checkpoint, unwrapped and without a common
    ``module.`` prefix (see the module docstring for the accepted layouts)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"pretrained file {str(p)!r} does not exist (nothing is "
                                f"downloaded: give a local checkpoint)")
    if p.suffix == ".npz":
        raise ValueError(f"{str(p)!r} is a JAX .npz checkpoint; convert it to a torch state dict "
                         f"with timm (timm.create_model(name, pretrained=True, "
                         f"pretrained_cfg_overlay=dict(file=PATH)).state_dict())")
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        raw: object = load_file(str(p), device="cpu")
    else:
        try:
            raw = torch.load(p, map_location="cpu", weights_only=True)
        except Exception as err:
            raise ValueError(f"cannot read {str(p)!r} as a torch state dict: {err}") from err
    while isinstance(raw, Mapping):
        wrapped = [k for k in _WRAPPERS if isinstance(raw.get(k), Mapping)]
        if not wrapped:
            break
        raw = raw[wrapped[0]]
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError(f"{str(p)!r} holds no state dict (got {type(raw).__name__})")
    state = {str(k): v for k, v in raw.items() if isinstance(v, torch.Tensor)}
    if not state:
        raise ValueError(f"{str(p)!r} holds no tensors")
    if all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


_TIMM_VIT_BLOCK = [
    ("norm1.", "ln_1."), ("attn.qkv.weight", "self_attention.in_proj_weight"),
    ("attn.qkv.bias", "self_attention.in_proj_bias"), ("attn.proj.", "self_attention.out_proj."),
    ("norm2.", "ln_2."), ("mlp.fc1.", "mlp.0."), ("mlp.fc2.", "mlp.3."),
]
_TIMM_VIT_TOP = {"cls_token": "class_token", "pos_embed": "encoder.pos_embedding",
                 "patch_embed.proj.weight": "conv_proj.weight",
                 "patch_embed.proj.bias": "conv_proj.bias", "norm.weight": "encoder.ln.weight",
                 "norm.bias": "encoder.ln.bias", "head.weight": "heads.head.weight",
                 "head.bias": "heads.head.bias"}


def timm_vit_to_torchvision(state: StateDict) -> StateDict:
    """timm ``VisionTransformer`` key names -> torchvision ``VisionTransformer`` ones (the same
    pre-norm architecture: fused q, k, v in the same order, class token first in the position
    embedding). A state dict already in torchvision's names is returned unchanged; keys with no
    counterpart are kept, so that loading names them as unexpected."""
    if "cls_token" not in state and not any(k.startswith("blocks.") for k in state):
        return state
    out: StateDict = {}
    for key, value in state.items():
        match = re.fullmatch(r"blocks\.(\d+)\.(.+)", key)
        if match:
            rest = match.group(2)
            for old, new in _TIMM_VIT_BLOCK:
                if rest.startswith(old):
                    rest = new + rest[len(old):]
                    break
            else:
                out[key] = value
                continue
            out[f"encoder.layers.encoder_layer_{match.group(1)}.{rest}"] = value
        else:
            out[_TIMM_VIT_TOP.get(key, key)] = value
    return out


def _listed(keys: list[str]) -> str:
    shown = ", ".join(keys[:_SHOWN])
    return f"{shown}{f', ... ({len(keys)} in all)' if len(keys) > _SHOWN else ''}"


def load_pretrained(module: nn.Module, path: str | Path, head: tuple[str, ...],
                    convert: Callable[[StateDict], StateDict] | None = None,
                    what: str = "the backbone") -> PretrainedLoad:
    """Copy the weights of the file at ``path`` into ``module`` (in place).

    ``head``: key prefixes of the classification head, which is loaded only when its shapes fit
    and otherwise kept as initialised; ``convert`` renames the file's keys first (e.g.
    :func:`timm_vit_to_torchvision`). Any other missing, unexpected or differently shaped key
    raises a ValueError naming them; ``what`` names the model in that message.
    """
    resolved = Path(path).expanduser().resolve()
    state = read_state_dict(resolved)
    if convert is not None:
        state = convert(state)
    own = module.state_dict()

    def is_head(key: str) -> bool:
        return key.startswith(head)

    missing = sorted(k for k in own if k not in state and not is_head(k))
    unexpected = sorted(k for k in state if k not in own)
    mismatched = sorted(f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
                        for k in own if k in state and state[k].shape != own[k].shape
                        and not is_head(k))
    if missing or unexpected or mismatched:
        problems = [f"{label} {_listed(keys)}" for label, keys in
                    (("missing keys", missing), ("unexpected keys", unexpected),
                     ("shape mismatches", mismatched)) if keys]
        raise ValueError(f"pretrained file {str(resolved)!r} does not fit {what}: "
                         + "; ".join(problems))
    usable = {k: state[k].to(own[k].dtype) for k in own
              if k in state and state[k].shape == own[k].shape}
    module.load_state_dict(usable, strict=False)
    return PretrainedLoad(path=str(resolved), sha256=file_sha256(resolved),
                          loaded=tuple(usable),
                          head_reinitialised=tuple(k for k in own if k not in usable))


def pretrained_options(module: nn.Module, pretrained: str | None, pretrained_sha256: str | None,
                       head: tuple[str, ...],
                       convert: Callable[[StateDict], StateDict] | None = None,
                       what: str = "the backbone") -> tuple[tuple[str, str], ...]:
    """Load ``pretrained`` into ``module`` when given (:func:`load_pretrained`) and return the spec
    options that record it: the absolute path and the file's sha256. ``pretrained_sha256`` (from a
    recorded spec being rebuilt) must equal the file's digest: a file changed since is an error."""
    if pretrained is None:
        if pretrained_sha256 is not None:
            raise ValueError("pretrained_sha256 given without a pretrained file")
        return ()
    info = load_pretrained(module, pretrained, head, convert, what)
    if pretrained_sha256 is not None and pretrained_sha256 != info.sha256:
        raise ValueError(f"pretrained file {info.path!r} has sha256 {info.sha256[:12]}..., not the "
                         f"recorded {pretrained_sha256[:12]}...: the file changed")
    return (("pretrained", info.path), ("pretrained_sha256", info.sha256))


def initialization(options: Mapping[str, object]) -> str:
    """How a backbone with these spec options starts: from a pretrained file, or from scratch."""
    if "pretrained" in options:
        digest = str(options.get("pretrained_sha256", ""))[:12]
        return f"pretrained weights from {options['pretrained']} (sha256 {digest}), fine-tuned"
    return "trained from scratch"
