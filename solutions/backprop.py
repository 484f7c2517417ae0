"""Assignment 05: backpropagation, the chain rule applied layer by layer.

Every ``*_backward`` function receives ``grad_out``, the gradient of the loss
with respect to the output of its layer, and returns the gradient with respect
to that layer's inputs: each result has the shape of the thing it is the
gradient of.
"""

from collections.abc import Callable

import torch
from torch import Tensor

from activations import relu, sigmoid, sigmoid_derivative, tanh, tanh_derivative
from losses import cross_entropy, cross_entropy_derivative
from mlp import dense

Params = list[tuple[Tensor, Tensor]]


def dense_backward(grad_out: Tensor, x: Tensor, W: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Gradients of ``out = x @ W + b``.

    Shapes: ``grad_out`` ``(n, d_out)``, ``x`` ``(n, d_in)``, ``W`` ``(d_in, d_out)``.
    Returns ``(grad_x, grad_W, grad_b)``, by the chain rule, element by element:
        grad_x[n, j] = sum over k of grad_out[n, k] * W[j, k]    shape (n, d_in)
        grad_W[j, k] = sum over n of x[n, j] * grad_out[n, k]    shape (d_in, d_out)
        grad_b[k]    = sum over n of grad_out[n, k]              shape (d_out,)
    Each sum is one tensor operation (a matrix product, or a sum along a dimension).
    """
    ### BEGIN SOLUTION
    return grad_out @ W.T, x.T @ grad_out, grad_out.sum(dim=0)
    ### END SOLUTION


def relu_backward(grad_out: Tensor, z: Tensor) -> Tensor:
    """Gradient through ``relu(z)``: ``grad_out`` where z > 0, else 0 (relu'(0) = 0).

    Shape and dtype of ``grad_out``.
    """
    ### BEGIN SOLUTION
    return torch.where(z > 0, grad_out, torch.zeros_like(grad_out))
    ### END SOLUTION


def sigmoid_backward(grad_out: Tensor, z: Tensor) -> Tensor:
    """Gradient through ``sigmoid(z)``: grad_out * sigmoid(z) * (1 - sigmoid(z))."""
    ### BEGIN SOLUTION
    return grad_out * sigmoid_derivative(z)
    ### END SOLUTION


def backward(x: Tensor, targets: Tensor, params: Params, activation: str = "relu") -> tuple[Tensor, Params]:
    """Loss and gradients of an MLP classifier, by backpropagation.

    Forward: the same pass as ``mlp.forward`` (hidden layers ``act(dense(...))``,
    last layer ``dense`` alone), then ``loss = cross_entropy(logits, targets)``.
    Keep every layer's input and pre-activation ``z``: the backward pass needs them.
    Backward: start from ``cross_entropy_derivative(logits, targets)`` and walk
    the layers in reverse, using ``dense_backward`` and the activation's
    derivative (``activation`` is ``"relu"``, ``"sigmoid"`` or ``"tanh"``).

    Returns ``(loss, grads)``: ``loss`` a 0-d tensor and ``grads`` a list of
    ``(grad_W, grad_b)`` shaped exactly like ``params``. They equal autograd's
    gradients of ``loss``.
    """
    ### BEGIN SOLUTION
    layers = {"relu": (relu, relu_backward), "sigmoid": (sigmoid, sigmoid_backward),
              "tanh": (tanh, lambda g, z: g * tanh_derivative(z))}
    if activation not in layers:
        raise ValueError(f"unknown activation {activation!r}")
    act, act_backward = layers[activation]
    inputs, pre_activations = [], []
    h = x
    for i, (W, b) in enumerate(params):
        inputs.append(h)
        z = dense(h, W, b)
        pre_activations.append(z)
        h = act(z) if i < len(params) - 1 else z
    loss = cross_entropy(h, targets)
    grad = cross_entropy_derivative(h, targets)
    grads = []
    for i in reversed(range(len(params))):
        grad_x, grad_W, grad_b = dense_backward(grad, inputs[i], params[i][0])
        grads.append((grad_W, grad_b))
        if i > 0:
            grad = act_backward(grad_x, pre_activations[i - 1])
    return loss, grads[::-1]
    ### END SOLUTION


def numerical_gradient(f: Callable[[Tensor], Tensor], x: Tensor, h: float = 1e-5) -> Tensor:
    """Estimate the gradient of ``f`` at ``x`` by central differences.

    For every element i of ``x`` (any number of dimensions), with e_i the unit
    tensor that is 1 at i:
        grad_i = (f(x + h e_i) - f(x - h e_i)) / (2h)
    ``f`` maps a tensor shaped like ``x`` to a 0-d tensor. Returns a tensor
    shaped like ``x``, in its dtype (use float64 for accurate results). ``x``
    itself is unchanged afterwards: perturb a copy. ``x`` may be a view whose
    memory is not contiguous (a transposed matrix), so make the copy contiguous
    (``x.detach().clone().contiguous()``) before viewing it as one flat vector.
    """
    ### BEGIN SOLUTION
    x_shifted = x.detach().clone().contiguous()
    flat = x_shifted.view(-1)
    grad = torch.zeros_like(flat)
    for i in range(flat.numel()):
        original = flat[i].item()
        flat[i] = original + h
        f_plus = f(x_shifted)
        flat[i] = original - h
        f_minus = f(x_shifted)
        flat[i] = original
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad.view(x.shape)
    ### END SOLUTION
