"""Assignment 02: activation functions and their derivatives.

The step function's derivative is zero almost everywhere, so a network of
step neurons cannot learn by gradient descent. Smooth activations fix that.
Every function here is elementwise (except softmax), keeps the shape and the
dtype of its input, and must stay finite for every finite input: in float32,
``exp(89)`` already overflows to ``inf``, so the stable forms matter.
"""

import torch
from torch import Tensor


def sigmoid(z: Tensor) -> Tensor:
    """The logistic function: sigmoid(z) = 1 / (1 + exp(-z)).

    Stable form: with e = exp(-|z|), which never overflows,
        sigmoid(z) = 1 / (1 + e)   where z >= 0
        sigmoid(z) = e / (1 + e)   where z < 0
    The result lies in [0, 1] for every finite ``z`` (for example -1000 and
    1000 in float32). Same shape and dtype as ``z``.
    """
    ### BEGIN SOLUTION
    e = torch.exp(-z.abs())
    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))
    ### END SOLUTION


def sigmoid_derivative(z: Tensor) -> Tensor:
    """d sigmoid / dz = sigmoid(z) * (1 - sigmoid(z)). Same shape and dtype as ``z``."""
    ### BEGIN SOLUTION
    s = sigmoid(z)
    return s * (1 - s)
    ### END SOLUTION


def tanh(z: Tensor) -> Tensor:
    """The hyperbolic tangent: tanh(z) = (exp(z) - exp(-z)) / (exp(z) + exp(-z)).

    Stable form: with e = exp(-2|z|), which never overflows,
        tanh(z) = sign(z) * (1 - e) / (1 + e)
    The result lies in [-1, 1] and is finite for every finite ``z``. Same
    shape and dtype as ``z``.
    """
    ### BEGIN SOLUTION
    e = torch.exp(-2 * z.abs())
    return torch.sign(z) * (1 - e) / (1 + e)
    ### END SOLUTION


def tanh_derivative(z: Tensor) -> Tensor:
    """d tanh / dz = 1 - tanh(z)**2. Same shape and dtype as ``z``."""
    ### BEGIN SOLUTION
    return 1 - tanh(z) ** 2
    ### END SOLUTION


def relu(z: Tensor) -> Tensor:
    """The rectified linear unit: relu(z) = max(0, z), elementwise. Same shape and dtype as ``z``."""
    ### BEGIN SOLUTION
    return z.clamp(min=0)
    ### END SOLUTION


def relu_derivative(z: Tensor) -> Tensor:
    """d relu / dz: 1.0 where z > 0, else 0.0.

    Convention: relu'(0) = 0. A float tensor of the shape and dtype of ``z``.
    """
    ### BEGIN SOLUTION
    return (z > 0).to(z.dtype)
    ### END SOLUTION


def softmax(z: Tensor, dim: int = -1) -> Tensor:
    """softmax(z)_i = exp(z_i) / sum_j exp(z_j), along dimension ``dim``.

    Stable form: subtracting any constant c from every z_i leaves the result
    unchanged, so subtract the maximum along ``dim`` first; then every
    exponent is <= 0 and nothing overflows, even for logits like 1e4.
    The result has the shape and dtype of ``z``; it is positive and sums to 1
    along ``dim``.
    """
    ### BEGIN SOLUTION
    e = torch.exp(z - z.amax(dim=dim, keepdim=True))
    return e / e.sum(dim=dim, keepdim=True)
    ### END SOLUTION
