"""Losses that shape relaxed binary codes ``b~ = tanh(h) in (-1, 1)^B`` into good hash bits.

* :class:`QuantizationLoss` (DeepBit, Lin et al. CVPR 2016, term 1): pull each relaxed bit to +-1 so that
  taking the sign loses little::

      L_q = mean_{i,k} (|b~_ik| - 1)^2

* :class:`BitBalanceLoss` (DeepBit, term 3 "even distribution"): each bit should be 1 on half of the
  inputs, i.e. its batch mean should be 0 (maximum entropy bits)::

      L_bal = mean_k ( mean_i b~_ik )^2

* :class:`TemporalConsistencyLoss` (deep video hashing, Liong et al. 2017 / Wu et al. 2017): codes of
  neighbouring frames of one video should be close; pairs ``(t, t+1)`` given as two aligned tensors::

      L_tc = mean_t || b~_t - b~_{t+1} ||^2 / B

  (B = number of bits; the squared distance of relaxed codes is 4x the relaxed Hamming distance.)

* :class:`BitDecorrelationLoss` (uncorrelated bits, as SpectralHash's constraint / Barlow Twins' redundancy
  reduction): balanced bits can still flip together; with ``c = b~ - mean_i b~`` and ``C = c^T c / N``::

      L_dec = sum_{k != l} C_kl^2 / (B (B - 1))

* :class:`PreCodeCentring`: the balance condition written scale free on the pre-tanh values ``h``, which keeps
  a gradient where DeepBit's balance on saturated ``tanh(h)`` has none (dead, constant bits)::

      L_c = mean_k (mean_i h_ik)^2 / (var_i h_ik + eps)

They follow the calling convention of the other vidml losses where it applies: ``loss(codes)`` or
``loss(codes_a, codes_b)`` -> scalar tensor. :class:`HashingLoss` sums them with weights.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class QuantizationLoss(nn.Module):
    """DeepBit quantization loss ``mean (|b| - 1)^2`` on relaxed codes (N, B)."""

    def forward(self, codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return (codes.abs() - 1.0).pow(2).mean()


class BitBalanceLoss(nn.Module):
    """DeepBit bit-balance loss ``mean_k (mean_i b_ik)^2``: every bit fires on half of the batch."""

    def forward(self, codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return codes.mean(0).pow(2).mean()


class TemporalConsistencyLoss(nn.Module):
    """Deep-video-hashing temporal term ``mean_t ||b_t - b_{t+1}||^2 / B`` over aligned pairs (N, B) x2."""

    def forward(self, codes_t: torch.Tensor, codes_next: torch.Tensor) -> torch.Tensor:
        if codes_t.shape != codes_next.shape:
            raise ValueError(f"temporal pairs must align: {tuple(codes_t.shape)} vs {tuple(codes_next.shape)}")
        return (codes_t - codes_next).pow(2).sum(1).mean() / codes_t.shape[1]


class HashingLoss(nn.Module):
    """``w_q * L_q + w_bal * L_bal`` on a batch of relaxed codes (add the temporal term separately)."""

    def __init__(self, w_quant: float = 0.1, w_balance: float = 0.1) -> None:
        super().__init__()
        self.w_quant, self.w_balance = w_quant, w_balance
        self.quant, self.balance = QuantizationLoss(), BitBalanceLoss()

    def forward(self, codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.w_quant * self.quant(codes) + self.w_balance * self.balance(codes)


class BitDecorrelationLoss(nn.Module):
    """``loss(codes (N, B)) -> mean_{k != l} Cov(b_k, b_l)^2`` over the batch (0 for N < 2)."""

    def forward(self, codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        n, b = codes.shape
        if n < 2 or b < 2:
            return codes.sum() * 0.0
        c = codes - codes.mean(0, keepdim=True)
        cov = c.T @ c / n
        off = cov - torch.diag_embed(torch.diagonal(cov))
        return off.pow(2).sum() / (b * (b - 1))


class PreCodeCentring(nn.Module):
    """``loss(pre_codes (N, B)) -> mean_k (mean_i h_ik)^2 / (var_i h_ik + eps)`` on the real values *before* tanh.

    DeepBit's balance acts on ``tanh(h)``: once a bit is saturated at one sign for every input its
    gradient vanishes and the bit is dead (constant). The same balance condition written scale-free on
    ``h`` keeps a gradient: a bit is balanced when its threshold 0 sits at the batch mean of ``h``.
    0 for centred bits, ~ (mean / std)^2 for a bit stuck at one sign.
    """

    def __init__(self, eps: float = 1e-4) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, pre_codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if len(pre_codes) < 2:
            return pre_codes.sum() * 0.0
        mean, var = pre_codes.mean(0), pre_codes.var(0, unbiased=False)
        return (mean.pow(2) / (var + self.eps)).mean()
