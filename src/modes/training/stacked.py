"""K copies of one network evaluated as one wide network: member channels stacked side by side.

Member k's channels occupy block k of every channel dimension: a ``(B, C, H, W)`` activation of one
member becomes ``(B, K*C, H, W)`` for the ensemble, in which channel ``k*C + c`` is member k's
channel c. Every convolution becomes one grouped convolution (``groups`` times K), every batch
norm one batch norm over ``K*C`` channels (per-channel statistics are per-member statistics), and
every linear layer one batched matrix product over the member blocks of its last dimension. The
network's own ``forward`` runs unchanged: element-wise operations, residual sums, pooling and
flattening a ``(B, K*C, 1, 1)`` map keep the layout.

Unlike ``torch.func.vmap`` over ``functional_call`` this needs no permutation of activations
between layers. It holds for networks built from Conv2d, BatchNorm and Linear layers whose forward
never mixes or reshapes channels (ResNets, plain CNNs); :func:`stack_network` refuses other layers
with parameters, and :func:`matches_members` checks a stacked network against its members.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


class StackedConv2d(nn.Module):
    """K convolutions as one grouped convolution; ``weight`` is ``(K, out, in/groups, kh, kw)``."""

    def __init__(self, conv: nn.Conv2d, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__()
        if conv.padding_mode != "zeros":
            raise ValueError(f"padding_mode {conv.padding_mode!r} is not supported (only 'zeros')")
        self.weight, self.bias = weight, bias
        self.stride, self.padding, self.dilation = conv.stride, conv.padding, conv.dilation
        self.groups = conv.groups * int(weight.shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = None if self.bias is None else self.bias.flatten()
        return F.conv2d(x, self.weight.flatten(0, 1), bias, self.stride, self.padding,
                        self.dilation, self.groups)


class StackedBatchNorm(nn.Module):
    """K batch norms over ``K*C`` channels; running statistics update the stacked buffers."""

    def __init__(self, bn: _BatchNorm, weight: torch.Tensor | None, bias: torch.Tensor | None,
                 buffers: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.weight, self.bias = weight, bias
        self.running_mean = buffers.get("running_mean")
        self.running_var = buffers.get("running_var")
        self.num_batches_tracked = buffers.get("num_batches_tracked")
        self.momentum, self.eps = bn.momentum, bn.eps
        self.track_running_stats = bn.track_running_stats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The logic of torch.nn.modules.batchnorm._BatchNorm.forward, on flattened member blocks.
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.flatten()[0])
        use_batch = self.training or self.running_mean is None
        update = not self.training or self.track_running_stats
        mean = self.running_mean.view(-1) if update and self.running_mean is not None else None
        var = self.running_var.view(-1) if update and self.running_var is not None else None
        return F.batch_norm(x, mean, var,
                            None if self.weight is None else self.weight.flatten(),
                            None if self.bias is None else self.bias.flatten(),
                            use_batch, factor, self.eps)


class StackedLinear(nn.Module):
    """K linear layers on the member blocks of the last dimension; ``weight``: ``(K, out, in)``."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__()
        self.weight, self.bias = weight, bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        members, _, width = self.weight.shape
        lead = x.shape[:-1]
        blocks = x.reshape(-1, members, width).transpose(0, 1)  # (K, N, in)
        out = torch.bmm(blocks, self.weight.transpose(1, 2))  # (K, N, out)
        if self.bias is not None:
            out = out + self.bias[:, None, :]
        return out.transpose(0, 1).reshape(*lead, -1)


def stack_network(template: nn.Module, params: dict[str, torch.Tensor],
                  buffers: dict[str, torch.Tensor]) -> nn.Module:
    """A copy of ``template`` whose layers read the stacked ``params`` and ``buffers`` (names as
    ``torch.func.stack_module_state`` gives them) and compute all members at once.

    Inputs are ``(B, K*C, ...)``; the output's last dimension holds the members' blocks
    (``(B, K*classes)`` for a classifier). Raises ``ValueError`` for a layer with parameters or
    buffers other than Conv2d, BatchNorm and Linear.
    """
    net = copy.deepcopy(template)
    for name, module in list(net.named_modules()):
        own = [n for n, _ in module.named_parameters(recurse=False)] + \
              [n for n, _ in module.named_buffers(recurse=False)]
        if not own:
            continue
        prefix = f"{name}." if name else ""
        p = {n: params[prefix + n] for n, _ in module.named_parameters(recurse=False)}
        b = {n: buffers[prefix + n] for n, _ in module.named_buffers(recurse=False)}
        stacked: nn.Module
        if type(module) is nn.Conv2d:
            stacked = StackedConv2d(module, p["weight"], p.get("bias"))
        elif isinstance(module, _BatchNorm) and not isinstance(module, nn.SyncBatchNorm):
            stacked = StackedBatchNorm(module, p.get("weight"), p.get("bias"), b)
        elif type(module) is nn.Linear:
            stacked = StackedLinear(p["weight"], p.get("bias"))
        else:
            raise ValueError(f"layer {name!r} ({type(module).__name__}) has parameters or buffers "
                             "and no stacked form (supported: Conv2d, BatchNorm, Linear)")
        stacked.train(module.training)
        if name:
            net.set_submodule(name, stacked)
        else:
            net = stacked
    return net


def stack_inputs(x: torch.Tensor) -> torch.Tensor:
    """Per-member inputs ``(K, B, C, ...)`` in the stacked layout ``(B, K*C, ...)``."""
    return x.transpose(0, 1).flatten(1, 2)


def unstack_outputs(out: torch.Tensor, members: int) -> torch.Tensor:
    """Stacked outputs ``(B, K*classes)`` as per-member outputs ``(K, B, classes)``."""
    # torch.unflatten, not Tensor.unflatten: the method is untyped in torch (mypy --strict)
    return torch.unflatten(out, -1, (members, -1)).movedim(-2, 0)


def matches_members(net: nn.Module, members: list[nn.Module], probe: torch.Tensor,
                    rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Whether eval-mode ``net`` (stacked from ``members``) gives each member's own output on
    ``probe`` (``(B, C, ...)``, the same images for every member): guards the layout assumptions
    (a forward that concatenates or reshapes channels breaks them without raising)."""
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            together = unstack_outputs(net(probe.repeat(1, len(members), *[1] * (probe.ndim - 2))),
                                       len(members))
            alone = [copy.deepcopy(m).eval()(probe) for m in members]
        return all(a.shape == t.shape and torch.allclose(a, t, rtol=rtol, atol=atol)
                   for a, t in zip(alone, together, strict=True))
    finally:
        net.train(was_training)
