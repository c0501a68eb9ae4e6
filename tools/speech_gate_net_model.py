"""The learned speech gate's network (tools/speech_gate_net_train.py; runtime: onnxruntime in
emoanim_server/face/lipsync/neural.py, no torch).

Why this shape: a causal convolution over 3 log-mel frames (spectral change: onsets, formant
moves) and a small GRU (the longer rhythm of syllables vs notes and beats), 32 channels each, so
it costs a few percent of the articulation model it runs next to. All state (the convolution's
last 2 input frames, the GRU state) is an explicit input and output, so chunked == whole and
many streams can share one ``run()`` (the batch axis).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

N_MELS = 64


class GateNet(nn.Module):
    def __init__(self, channels: int = 32, hidden: int = 32, kernel: int = 3) -> None:
        super().__init__()
        self.cfg = dict(channels=channels, hidden=hidden, kernel=kernel)
        self.k = kernel
        self.register_buffer("mean", torch.zeros(N_MELS))
        self.register_buffer("std", torch.ones(N_MELS))
        self.c1 = nn.Conv1d(N_MELS, channels, kernel)
        self.gru = nn.GRU(channels, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def zero_state(self, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.zeros(batch, N_MELS, self.k - 1), torch.zeros(1, batch, self.cfg["hidden"])

    def logits(self, mel, s1, h):
        x1 = torch.cat([s1, ((mel - self.mean) / self.std).transpose(1, 2)], 2)
        x = F.relu(self.c1(x1))
        y, hn = self.gru(x.transpose(1, 2), h)
        return self.out(y), x1[:, :, -(self.k - 1):], hn

    def forward(self, mel, c1, h):
        z, c1n, hn = self.logits(mel, c1, h)
        return torch.sigmoid(z[..., 0]), c1n, hn
