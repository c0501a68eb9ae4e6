"""The articulation network (torch, training only; run time uses its ONNX export).

log-mel (100 Hz, 64 bands) -> feature normalisation -> two causal 1-D convolutions (kernel 3,
GELU) -> one GRU -> linear -> sigmoid: 11 articulators + 2 contact probabilities (lips meet,
lower lip tucks). Strictly causal in its input; the lookahead is a fixed output *delay*: output
step ``j`` is trained on articulator frame ``j - delay``. Every piece of state (the last
``k - 1`` input frames of each convolution, the GRU state) is an explicit input and output, so
the exported graph streams exactly.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

N_MELS = 64
N_ART = 11
N_OUT = N_ART + 2


class ArticNet(nn.Module):
    def __init__(self, channels: int = 128, hidden: int = 128, kernel: int = 3, delay: int = 5) -> None:
        super().__init__()
        self.cfg = dict(channels=channels, hidden=hidden, kernel=kernel, delay=delay)
        self.k = kernel
        self.register_buffer("mean", torch.zeros(N_MELS))
        self.register_buffer("std", torch.ones(N_MELS))
        self.c1 = nn.Conv1d(N_MELS, channels, kernel)
        self.c2 = nn.Conv1d(channels, channels, kernel)
        self.gru = nn.GRU(channels, hidden, batch_first=True)
        self.out = nn.Linear(hidden, N_OUT)

    def zero_state(self, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c = self.cfg
        return (torch.zeros(batch, N_MELS, self.k - 1), torch.zeros(batch, c["channels"], self.k - 1),
                torch.zeros(1, batch, c["hidden"]))

    def logits(self, mel, s1, s2, h):
        x = ((mel - self.mean) / self.std).transpose(1, 2)
        x1 = torch.cat([s1, x], 2)
        x = F.gelu(self.c1(x1))
        x2 = torch.cat([s2, x], 2)
        x = F.gelu(self.c2(x2))
        y, hn = self.gru(x.transpose(1, 2), h)
        return self.out(y), x1[:, :, -(self.k - 1):], x2[:, :, -(self.k - 1):], hn

    def forward(self, mel, c1, c2, h):
        z, c1n, c2n, hn = self.logits(mel, c1, c2, h)
        return torch.sigmoid(z), c1n, c2n, hn
