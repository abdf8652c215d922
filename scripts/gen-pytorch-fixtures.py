#!/usr/bin/env python3
"""Trajectories of real torch.optim.RMSprop runs, for test/flavors (the 'pytorch' flavor).

Run with Debian's PyTorch (apt-get install python3-torch, 1.13.1):
    /usr/bin/python3 scripts/gen-pytorch-fixtures.py
It writes test/fixtures/pytorch/<case>.json. The outputs are committed, so the
tests need no PyTorch.

Each case trains three float32 parameters (sizes chosen so PyTorch's CPU
kernels take both their 16-wide vector body and their scalar tail) on a loss
whose gradients are computed by autograd from the current parameters, and
records, after every step, the gradients used, the learning rate of the step,
the parameters and the optimizer state (square_avg, momentum_buffer,
grad_avg). Floats are written with repr() of the float32 value widened to
double, which parses back to the same float32; non-finite values as strings.
"""
import json
import math
import os
import sys

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'pytorch')
STEPS = 40

CASES = {
    # name: (RMSprop kwargs, lr per step or None, description)
    'defaults': (dict(), None, 'PyTorch defaults: lr 0.01, alpha 0.99, eps 1e-8'),
    'centered': (dict(lr=0.003, alpha=0.9, eps=1e-6, centered=True), None, 'centered, no momentum'),
    'momentum': (dict(lr=0.002, momentum=0.9), None, 'momentum 0.9'),
    'momentum_centered': (dict(lr=0.001, alpha=0.95, momentum=0.5, centered=True), None, 'centered with momentum'),
    'weight_decay': (dict(lr=0.01, weight_decay=0.05), None, 'coupled weight decay, no momentum'),
    'weight_decay_momentum': (dict(lr=0.004, momentum=0.8, weight_decay=0.01, centered=True), None,
                              'coupled weight decay, momentum, centered'),
    'lr_schedule_momentum': (dict(lr=0.01, momentum=0.9), 'steplr',
                             'StepLR(step_size=10, gamma=0.5): lr outside the momentum buffer'),
}


def num(x):
    x = float(x)
    return x if math.isfinite(x) else repr(x)


def flat(t):
    return [num(v) for v in t.detach().reshape(-1).tolist()]


def run(name, kwargs, schedule, description):
    torch.manual_seed(1234)
    w1 = torch.nn.Parameter(torch.randn(37))
    w2 = torch.nn.Parameter(torch.randn(3, 7))
    w3 = torch.nn.Parameter(torch.randn(5) * 0.1)
    params = [w1, w2, w3]
    opt = torch.optim.RMSprop(params, **kwargs)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5) if schedule == 'steplr' else None
    record = {
        'torch': torch.__version__,
        'description': description,
        'kwargs': kwargs,
        'shapes': [list(p.shape) for p in params],
        'initial': [flat(p) for p in params],
        'steps': [],
    }
    gen = torch.Generator().manual_seed(99)
    for step in range(STEPS):
        x = torch.randn(37, generator=gen)
        y = torch.randn(3, 7, generator=gen)
        z = torch.randn(5, generator=gen)
        opt.zero_grad()
        loss = 0.1 * (w1 * x).sum() ** 2 + 0.01 * (w1 ** 3).sum() + ((w2 - y) ** 2 * 0.5).sum() + 1e-5 * (w3 * z).sum()
        loss.backward()
        lr = opt.param_groups[0]['lr']
        grads = [flat(p.grad) for p in params]
        opt.step()
        if sched is not None:
            sched.step()
        entry = {'lr': lr, 'grads': grads, 'params': [flat(p) for p in params], 'state': []}
        for p in params:
            st = opt.state[p]
            entry['state'].append({k: flat(v) for k, v in st.items() if k in ('square_avg', 'momentum_buffer', 'grad_avg')})
            entry['step'] = float(st['step'])
        record['steps'].append(entry)
    sd = opt.state_dict()
    record['param_group'] = json.loads(json.dumps(sd['param_groups'][0], default=str))
    path = os.path.join(OUT, f'{name}.json')
    with open(path, 'w') as f:
        json.dump(record, f, separators=(',', ':'))
        f.write('\n')
    print('wrote', os.path.relpath(path))


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    if torch.get_default_dtype() != torch.float32:
        sys.exit('expected float32 default dtype')
    for name, (kwargs, schedule, description) in CASES.items():
        run(name, kwargs, schedule, description)
