"""The plate recognizer: a small CRNN (conv stack + BiLSTM) read with CTC.

Input: N x 3 x 32 x 128 BGR in [-0.5, 0.5] (a plate window resized to 128x32, the way the engine cuts it).
Output: N x 32 x 37 log-probabilities (32 time steps; class 0 is the CTC blank, then ALPHABET).
"""

from __future__ import annotations

import torch
from torch import nn

NUM_CLASSES = 37
INPUT_H, INPUT_W = 32, 128


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class PlateCRNN(nn.Module):
    def __init__(self, hidden: int = 96) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _block(3, 32),
            nn.MaxPool2d(2),  # 16 x 64
            _block(32, 64),
            nn.MaxPool2d(2),  # 8 x 32
            _block(64, 96),
            _block(96, 128),
            nn.MaxPool2d((2, 1)),  # 4 x 32
            _block(128, 160),
            nn.MaxPool2d((2, 1)),  # 2 x 32
            nn.Conv2d(160, 192, (2, 1), bias=False),  # 1 x 32
            nn.BatchNorm2d(192),
            nn.ReLU(inplace=True),
            nn.Dropout(0.15),
        )
        self.rnn = nn.LSTM(192, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x).squeeze(2).permute(0, 2, 1)  # N x T x C
        f, _ = self.rnn(f)
        return self.head(f).log_softmax(-1)
