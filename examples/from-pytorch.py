# Dump a PyTorch model's weights for wasm-rnn:  /usr/bin/python3 examples/from-pytorch.py > examples/lstm.json
import json, sys
import torch

torch.manual_seed(0)
model = torch.nn.LSTM(input_size=8, hidden_size=32, num_layers=2)
json.dump({k: v.tolist() for k, v in model.state_dict().items()}, sys.stdout)
