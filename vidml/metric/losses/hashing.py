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
