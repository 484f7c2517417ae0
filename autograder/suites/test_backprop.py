"""Hidden tests for assignment 05: backpropagation and numerical gradients.

Oracles: the reference on seeded inputs (its ``backward`` equals autograd's
gradients), properties (stacking a batch twice doubles the parameter
gradients), and for ``numerical_gradient`` the exact gradient by autograd,
computed here in the grader on the same fixture function. Likely mistakes are
recognised by recomputing typical wrong versions here.
"""

import torch

from autograder.suites.checks import (call_both, check, close, describe, fail, fixture, labels, pairs_like, points,
                               rand, within)
from autograder.worker import fixtures as worker_fixtures

F32, F64 = torch.float32, torch.float64


def is_tensor(value):
    return type(value) is torch.Tensor


# -- dense_backward --------------------------------------------------------------------------------------
def check_dense_backward(student, ref, grad_out, x, W):
    got, (ex, eW, eb) = call_both(student, ref, "dense_backward", grad_out, x, W)
    if type(got) not in (tuple, list) or len(got) != 3:
        fail(f"dense_backward returned {describe(got)}; expected three tensors (grad_x, grad_W, grad_b)")
    gx, gW, gb = got
    likely_x = {}
    if W.shape[0] == W.shape[1]:
        likely_x["grad_x = grad_out @ W.T: transpose W"] = grad_out @ W
    close(gx, ex, "dense_backward: grad_x", "grad_x = grad_out @ W.T, shape (n, d_in) like x", likely=likely_x)
    if is_tensor(gW) and gW.shape != eW.shape and gW.shape == eW.T.shape:
        fail(f"dense_backward: grad_W has shape {tuple(gW.shape)}, transposed: grad_W = x.T @ grad_out has the "
             "shape (d_in, d_out) of W")
    close(gW, eW, "dense_backward: grad_W", "grad_W = x.T @ grad_out, shape (d_in, d_out) like W",
          likely={"grad_W = x.T @ grad_out is a sum over the batch, do not divide it by n": eW / len(x),
                  "grad_W = x.T @ grad_out, not grad_out.T @ x (that is its transpose)": grad_out.T @ x})
    if is_tensor(gb) and gb.shape != eb.shape:
        fail(f"dense_backward: grad_b has shape {tuple(gb.shape)}; it must have the shape (d_out,) of b: "
             "sum grad_out over the batch, dim 0, without keepdim")
    close(gb, eb, "dense_backward: grad_b", "grad_b is grad_out summed over the batch (dim 0)",
          likely={"sum grad_out over the batch, do not average it: b is added to every row, so every row "
                  "contributes its full gradient": grad_out.mean(dim=0)})
    return gx, gW, gb


@points(1, "dense_backward")
def test_dense_backward_float32(student, ref):
    """dense_backward gives grad_out @ W.T, x.T @ grad_out and the batch sum of grad_out (float32)"""
    check_dense_backward(student, ref, rand(7, 5, seed=511), rand(7, 3, seed=512), rand(3, 5, seed=513))


@points(1, "dense_backward")
def test_dense_backward_float64(student, ref):
    """dense_backward keeps float64 and the shapes of x, W and b"""
    check_dense_backward(student, ref, rand(11, 2, dtype=F64, seed=514), rand(11, 7, dtype=F64, seed=515),
                         rand(7, 2, dtype=F64, seed=516))


@points(1, "dense_backward")
def test_dense_backward_sums_over_the_batch(student, ref):
    """stacking a batch twice doubles grad_W and grad_b and repeats grad_x (square W, float64)"""
    grad_out, x, W = rand(3, 5, dtype=F64, seed=517), rand(3, 5, dtype=F64, seed=518), rand(5, 5, dtype=F64, seed=519)
    gx, gW, gb = check_dense_backward(student, ref, grad_out, x, W)
    gx2, gW2, gb2 = check_dense_backward(student, ref, torch.cat([grad_out, grad_out]), torch.cat([x, x]), W)
    check(within(gW2, 2 * gW) and within(gb2, 2 * gb),
          "dense_backward: a batch stacked twice must give twice grad_W and grad_b: sum over the batch, do not average")
    check(within(gx2, torch.cat([gx, gx])), "dense_backward: grad_x must have one row per row of x")


# -- relu_backward ------------------------------------------------------------------------------------
def relu_backward_likely(grad_out, z):
    return {"relu'(0) = 0: pass grad_out only where z > 0, not z >= 0":
                torch.where(z >= 0, grad_out, torch.zeros_like(grad_out)),
            "the mask comes from z (where z > 0), not from the sign of grad_out":
                torch.where(grad_out > 0, grad_out, torch.zeros_like(grad_out)),
            "multiply the mask by grad_out: the result is grad_out where z > 0, else 0": (z > 0).to(grad_out.dtype)}


@points(1, "relu_backward")
def test_relu_backward_float32(student, ref):
    """relu_backward passes grad_out where z > 0 and 0 elsewhere (float32)"""
    grad_out, z = rand(7, 5, seed=521), rand(7, 5, seed=522)
    close(*call_both(student, ref, "relu_backward", grad_out, z), "relu_backward",
          "the result is grad_out where z > 0, else 0", likely=relu_backward_likely(grad_out, z))


@points(1, "relu_backward")
def test_relu_backward_at_zero(student, ref):
    """relu_backward gives 0 where z is exactly 0 (the convention relu'(0) = 0)"""
    z = torch.tensor([[-2.0, -0.0, 0.0, 1e-30, 3.0], [0.0, 0.5, -1e-30, 0.0, -4.0]])
    grad_out = torch.tensor([[1.5, -2.0, 3.0, -0.5, 2.5], [-1.0, 4.0, 2.0, 0.25, -3.0]])
    for dtype in (F32, F64):
        g, zz = grad_out.to(dtype), z.to(dtype)
        close(*call_both(student, ref, "relu_backward", g, zz), "relu_backward",
              "the convention is relu'(0) = 0: use z > 0", likely=relu_backward_likely(g, zz))


@points(1, "relu_backward")
def test_relu_backward_float64_3d(student, ref):
    """relu_backward works elementwise on a 3-D float64 input and keeps its dtype"""
    grad_out, z = rand(3, 5, 2, dtype=F64, seed=523), rand(3, 5, 2, dtype=F64, seed=524)
    close(*call_both(student, ref, "relu_backward", grad_out, z), "relu_backward",
          "the result is grad_out where z > 0, else 0, with the shape and dtype of grad_out",
          likely=relu_backward_likely(grad_out, z))


# -- sigmoid_backward -------------------------------------------------------------------------------
def sigmoid_backward_likely(grad_out, z):
    s = torch.sigmoid(z)
    return {"multiply by grad_out: the chain rule gives grad_out * sigmoid'(z)": s * (1 - s),
            "z is the pre-activation: use sigmoid(z) * (1 - sigmoid(z)), not z * (1 - z)": grad_out * z * (1 - z),
            "use the derivative sigmoid(z) * (1 - sigmoid(z)), not sigmoid(z) itself": grad_out * s}


@points(1, "sigmoid_backward")
def test_sigmoid_backward_float32(student, ref):
    """sigmoid_backward matches grad_out * sigmoid(z) * (1 - sigmoid(z)) (float32)"""
    grad_out, z = rand(7, 5, seed=531), rand(7, 5, seed=532, scale=2)
    close(*call_both(student, ref, "sigmoid_backward", grad_out, z), "sigmoid_backward",
          "the result is grad_out * sigmoid(z) * (1 - sigmoid(z))", likely=sigmoid_backward_likely(grad_out, z))


@points(1, "sigmoid_backward")
def test_sigmoid_backward_float64_3d(student, ref):
    """sigmoid_backward keeps float64 on a 3-D input"""
    grad_out, z = rand(2, 3, 5, dtype=F64, seed=533), rand(2, 3, 5, dtype=F64, seed=534, scale=3)
    close(*call_both(student, ref, "sigmoid_backward", grad_out, z), "sigmoid_backward",
          "the result is grad_out * sigmoid(z) * (1 - sigmoid(z)), in the input's dtype",
          likely=sigmoid_backward_likely(grad_out, z))


@points(1, "sigmoid_backward")
def test_sigmoid_backward_large_inputs(student, ref):
    """sigmoid_backward is finite for z like -1000 and 1000"""
    hint = ("exp(-z) overflows for large negative z, and inf / inf is nan: compute s = sigmoid(z) "
            "(the stable one) and use grad_out * s * (1 - s)")
    z = torch.tensor([[-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0]])
    grad_out = torch.tensor([[1.0, -2.0, 0.5, 3.0, -1.5, 2.0, -0.5]])
    for dtype in (F32, F64):
        g, zz = grad_out.to(dtype), z.to(dtype)
        close(*call_both(student, ref, "sigmoid_backward", g, zz), "sigmoid_backward",
              "the result is grad_out * sigmoid(z) * (1 - sigmoid(z))", nonfinite_hint=hint,
              likely=sigmoid_backward_likely(g, zz))


# -- backward -------------------------------------------------------------------------------------------
ACTIVATIONS = {"relu": (torch.relu, lambda z: (z > 0).to(z.dtype)),
               "sigmoid": (torch.sigmoid, lambda z: torch.sigmoid(z) * (1 - torch.sigmoid(z))),
               "tanh": (torch.tanh, lambda z: 1 - torch.tanh(z) ** 2)}


def wrong_backward(x, targets, params, activation, variant):
    """A typical wrong backpropagation (to recognise the mistake): returns (loss, grads)."""
    act, prime = ACTIVATIONS[activation]
    inputs, zs, h = [], [], x
    for i, (W, b) in enumerate(params):
        inputs.append(h if i == 0 or variant != "z_as_input" else zs[-1])
        z = h @ W + b
        zs.append(z)
        h = act(z) if i < len(params) - 1 or variant == "act_on_output" else z
    n, classes = h.shape
    log_probs = h - h.amax(dim=1, keepdim=True)
    log_probs = log_probs - torch.log(torch.exp(log_probs).sum(dim=1, keepdim=True))
    hot = torch.zeros_like(h)
    hot[torch.arange(n), targets] = 1
    loss = -log_probs[torch.arange(n), targets].mean()
    grad = (torch.exp(log_probs) - hot) / n
    if variant == "act_on_output":
        grad = grad * prime(zs[-1])
    grad = grad * {"no_mean": n, "mean_twice": 1 / n}.get(variant, 1)
    grads = []
    for i in reversed(range(len(params))):
        grads.append((inputs[i].T @ grad, grad.sum(dim=0)))
        if i > 0:
            back = grad @ params[i][0].T
            if variant == "no_derivative":
                grad = back
            elif variant == "post_activation":
                grad = back * prime(act(zs[i - 1]))
            elif variant == "tanh_of_z_squared":
                grad = back * (1 - zs[i - 1] ** 2)
            elif variant == "relu_at_zero":
                grad = back * (zs[i - 1] >= 0).to(back.dtype)
            else:
                grad = back * prime(zs[i - 1])
    return loss, grads[::-1]


BACKWARD_MISTAKES = {
    "no_derivative": "the gradient skips the activation: multiply grad_out @ W.T by the activation's derivative "
                     "at each hidden layer (relu_backward, sigmoid_backward, tanh_derivative)",
    "post_activation": "take the activation's derivative at the pre-activation z = h @ W + b, not at the "
                       "activation's output",
    "tanh_of_z_squared": "tanh'(z) = 1 - tanh(z)**2, not 1 - z**2 (z is the pre-activation)",
    "no_mean": "the gradients are n times too large: the loss is a mean over the rows, start from "
               "cross_entropy_derivative (it divides by n)",
    "mean_twice": "the gradients are n times too small: cross_entropy_derivative already divides by n, do not "
                  "divide again",
    "act_on_output": "the last layer is dense alone (it gives the logits): do not apply the activation to it",
    "relu_at_zero": "relu'(0) = 0: the gradient passes only where z > 0, not z >= 0",
    "z_as_input": "grad_W of a layer is (its input).T @ grad: the input of a hidden layer is the previous "
                  "layer's activation, not its pre-activation z",
}


def make_params(sizes, dtype, seed, dead_unit=False):
    params = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = rand(d_in, d_out, dtype=dtype, seed=seed + 2 * i, scale=1.2 / d_in ** 0.5)
        b = rand(d_out, dtype=dtype, seed=seed + 2 * i + 1, scale=0.3)
        params.append((W, b))
    if dead_unit:  # one hidden unit whose pre-activation is exactly 0 for every row: relu'(0) = 0 matters
        W, b = params[0]
        W[:, 1], b[1] = 0.0, 0.0
    return params


def check_backward(student, ref, x, targets, params, activation):
    got, (exp_loss, exp_grads) = call_both(student, ref, "backward", x, targets, params, activation=activation)
    if type(got) not in (tuple, list) or len(got) != 2:
        fail(f"backward returned {describe(got)}; expected a pair (loss, grads)")
    loss, grads = got
    if type(loss) in (float, int):
        fail("backward: the loss must be a 0-d tensor, not a Python number (do not call `.item()`)")
    variants = [v for v in BACKWARD_MISTAKES if activation == "relu" or v != "relu_at_zero"]
    wrong = {variant: wrong_backward(x, targets, params, activation, variant) for variant in variants}
    if activation != "relu":
        wrong["relu"] = wrong_backward(x, targets, params, "relu", "")
    messages = {**BACKWARD_MISTAKES, "relu": f"use the activation you are given ({activation!r}) in the forward "
                                             "and the backward pass"}
    close(loss, exp_loss, "backward: the loss",
          "the loss is cross_entropy of the logits of the forward pass (hidden layers act(dense), last layer dense)",
          likely={messages[k]: v[0] for k, v in wrong.items()})
    grads = pairs_like(grads, params, "backward")
    shapes = [tuple(t.shape) if is_tensor(t) else None for pair in grads for t in pair]
    expected_shapes = [tuple(t.shape) for pair in params for t in pair]
    reversed_shapes = [tuple(t.shape) for pair in params[::-1] for t in pair]
    if shapes != expected_shapes and shapes == reversed_shapes:
        fail("backward: the grads are in reverse order; grads[0] must be the (grad_W, grad_b) of the first layer, "
             "like params (reverse the list you built walking backwards)")
    for i in reversed(range(len(params))):
        (gW, gb), (W, b) = grads[i], params[i]
        if is_tensor(gW) and gW.shape != W.shape and gW.shape == W.T.shape:
            fail(f"backward: grad_W of layer {i + 1} is transposed, shape {tuple(gW.shape)}: grad_W = x.T @ grad "
                 "has the shape (d_in, d_out) of W")
        if is_tensor(gb) and gb.shape != b.shape:
            fail(f"backward: grad_b of layer {i + 1} has shape {tuple(gb.shape)}; it must have the shape (d_out,) "
                 "of b: sum over the batch, dim 0, without keepdim")
        for j, name in enumerate(("grad_W", "grad_b")):
            hint = (f"wrong {name} for layer {i + 1} of {len(params)}" +
                    (" (the last layer: it starts from cross_entropy_derivative(logits, targets))"
                     if i == len(params) - 1 else
                     " (walk back through dense_backward and the activation's derivative at z)"))
            likely = {"grad_b must be summed over the batch, not averaged": exp_grads[i][1] / len(x)} if j else {}
            likely.update({messages[k]: v[1][i][j] for k, v in wrong.items()})
            close(grads[i][j], exp_grads[i][j], f"backward: {name} of layer {i + 1}", hint, likely=likely)
    return loss, grads


@points(2, "backward")
def test_backward_relu_two_layers(student, ref):
    """backward of a 2-layer ReLU network matches autograd (float64, with a unit at z = 0)"""
    x, targets = rand(7, 3, dtype=F64, seed=541), labels(7, 4, seed=542)
    check_backward(student, ref, x, targets, make_params([3, 5, 4], F64, seed=543, dead_unit=True), "relu")


@points(2, "backward")
def test_backward_sigmoid_three_layers(student, ref):
    """backward of a 3-layer sigmoid network matches autograd (float64)"""
    x, targets = rand(11, 2, dtype=F64, seed=551, scale=2), labels(11, 3, seed=552)
    check_backward(student, ref, x, targets, make_params([2, 7, 5, 3], F64, seed=553), "sigmoid")


@points(1, "backward")
def test_backward_tanh_three_layers(student, ref):
    """backward of a 3-layer tanh network matches autograd (float64)"""
    x, targets = rand(13, 3, dtype=F64, seed=561), labels(13, 2, seed=562)
    check_backward(student, ref, x, targets, make_params([3, 5, 7, 2], F64, seed=563), "tanh")


@points(1, "backward")
def test_backward_float32(student, ref):
    """backward keeps float32 for a float32 network (ReLU, 3 layers)"""
    x, targets = rand(5, 7, seed=571), labels(5, 3, seed=572)
    check_backward(student, ref, x, targets, make_params([7, 2, 5, 3], F32, seed=573), "relu")


@points(1, "backward")
def test_backward_returns_loss_and_grads_in_order(student, ref):
    """backward returns a 0-d loss and one (grad_W, grad_b) per layer, in the order and shapes of params"""
    x, targets = rand(3, 2, dtype=F64, seed=581), labels(3, 5, seed=582)
    params = make_params([2, 3, 7, 5], F64, seed=583)
    loss, grads = check_backward(student, ref, x, targets, params, "tanh")
    check(loss.shape == (), "backward: the loss must be a 0-d tensor")
    for (W, b), (gW, gb) in zip(params, grads):
        check(gW.shape == W.shape and gb.shape == b.shape, "backward: each grad must have the shape of its parameter")


# -- numerical_gradient ----------------------------------------------------------------------------------
def exact_gradient(function, c, x):
    f = worker_fixtures.build(function, (c,), {})
    leaf = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(leaf), leaf)
    return grad


def wrong_numerical_gradient(function, c, x, h, variant):
    """A typical wrong numerical gradient, computed here (to recognise the mistake)."""
    f = worker_fixtures.build(function, (c,), {})
    flat = x.clone().reshape(-1)
    out = torch.zeros_like(flat)
    if variant == "all_at_once":
        return torch.full_like(x, float((f(x + h) - f(x - h)) / (2 * h)))
    if variant == "rows":
        rows = torch.zeros_like(x)
        for i in range(len(x)):
            plus, minus = x.clone(), x.clone()
            plus[i] += h
            minus[i] -= h
            rows[i] = (f(plus) - f(minus)) / (2 * h)
        return rows
    for i in range(flat.numel()):
        plus, minus = flat.clone(), flat.clone()
        plus[i] += h
        minus[i] -= h
        if variant == "forward":
            out[i] = (f(plus.reshape(x.shape)) - f(flat.reshape(x.shape))) / h
        else:  # "no_restore": each element stays at x_i - h once visited
            out[i] = (f(plus.reshape(x.shape)) - f(minus.reshape(x.shape))) / (2 * h)
            flat[i] -= h
    return out.reshape(x.shape)


NG_HINT = ("for every element i, one at a time and each time from the original x: "
           "grad_i = (f(x + h e_i) - f(x - h e_i)) / (2h)")


def check_numerical_gradient(student, ref, function, c, x, h=None, transposed=False):
    """Compare with the reference's central differences; with ``transposed``, x is sent as the transpose of
    ``x.T`` (a non-contiguous tensor, built in the worker) and must come back unchanged."""
    kwargs = {} if h is None else {"h": h}
    if transposed:
        argument = fixture("transposed", x.T.contiguous())
        got, args_after, _ = student.call_returning_args("numerical_gradient", fixture(function, c), argument,
                                                         **kwargs)
        if not (is_tensor(args_after[1]) and args_after[1].shape == x.shape and torch.equal(args_after[1], x)):
            fail("numerical_gradient modified its argument `x` in place; perturb a copy (x.clone()) and leave x "
                 "as it was")
        expected = ref.call("numerical_gradient", fixture(function, c), argument, **kwargs)
    else:
        got, expected = call_both(student, ref, "numerical_gradient", fixture(function, c), x, **kwargs)
    step = 1e-5 if h is None else h
    if is_tensor(got) and got.shape != x.shape and got.numel() == x.numel():
        fail(f"numerical_gradient returned shape {tuple(got.shape)}; the result must have the shape of x "
             f"{tuple(x.shape)}: reshape it (for example `grad.reshape(x.shape)`)")
    likely = {"use central differences (f(x + h e_i) - f(x - h e_i)) / (2h), not forward differences "
              "(f(x + h e_i) - f(x)) / h": wrong_numerical_gradient(function, c, x, step, "forward"),
              "divide by 2h: the two points x + h e_i and x - h e_i are 2h apart": 2 * expected,
              "the sign is flipped: f(x + h e_i) comes first": -expected,
              "perturb one element at a time: adding h to every element at once gives one number everywhere":
                  wrong_numerical_gradient(function, c, x, step, "all_at_once"),
              "restore each element after perturbing it: every difference must start from the original x":
                  wrong_numerical_gradient(function, c, x, step, "no_restore")}
    if x.dim() > 1:
        likely["perturb one element at a time: `x[i]` of a multi-dimensional x is a whole row; loop over all "
               "x.numel() elements"] = wrong_numerical_gradient(function, c, x, step, "rows")
    if h is not None:
        likely["use the `h` you are given"] = ref.numerical_gradient(fixture(function, c), x)
    close(got, expected, "numerical_gradient", NG_HINT, likely=likely, kind="estimate")
    return got


@points(1, "numerical_gradient")
def test_numerical_gradient_vector(student, ref):
    """numerical_gradient of a coupled function of a 1-D float64 x matches central differences and autograd"""
    c, x = rand(7, dtype=F64, seed=591), rand(7, dtype=F64, seed=592)
    got = check_numerical_gradient(student, ref, "cubic_mix", c, x)
    close(got, exact_gradient("cubic_mix", c, x), "numerical_gradient", f"it is far from the exact gradient: {NG_HINT}",
          kind="estimate")


@points(1, "numerical_gradient")
def test_numerical_gradient_matrix(student, ref):
    """numerical_gradient of a 2-D float64 x, contiguous or transposed, has the shape of x and perturbs every
    element"""
    c, x = rand(3, 5, dtype=F64, seed=593, scale=2), rand(3, 5, dtype=F64, seed=594)
    got = check_numerical_gradient(student, ref, "log_sum_exp_of", c, x)
    close(got, exact_gradient("log_sum_exp_of", c, x), "numerical_gradient",
          f"it is far from the exact gradient: {NG_HINT}", kind="estimate")
    c, x = rand(5, 3, dtype=F64, seed=601), rand(3, 5, dtype=F64, seed=602).T  # x.T is not contiguous
    got = check_numerical_gradient(student, ref, "cubic_mix", c, x, transposed=True)
    close(got, exact_gradient("cubic_mix", c, x), "numerical_gradient",
          "it is far from the exact gradient for a transposed (non-contiguous) x: `view` needs contiguous memory; "
          f"use x.reshape(-1) or a contiguous copy (x.detach().clone().contiguous()). {NG_HINT}", kind="estimate")


@points(1, "numerical_gradient")
def test_numerical_gradient_3d(student, ref):
    """numerical_gradient of a 3-D float64 x perturbs every element"""
    c, x = rand(2, 3, 5, dtype=F64, seed=595), rand(2, 3, 5, dtype=F64, seed=596)
    check_numerical_gradient(student, ref, "cubic_mix", c, x)


@points(1, "numerical_gradient")
def test_numerical_gradient_uses_h(student, ref):
    """numerical_gradient uses the step `h` it is given"""
    c, x = rand(5, dtype=F64, seed=597), rand(5, dtype=F64, seed=598, scale=2)
    for h in (0.05, 1e-3):
        check_numerical_gradient(student, ref, "cubic_mix", c, x, h=h)


@points(1, "numerical_gradient")
def test_numerical_gradient_float32(student, ref):
    """numerical_gradient returns float32 for a float32 x"""
    c, x = rand(5, 3, seed=599), rand(5, 3, seed=600)
    check_numerical_gradient(student, ref, "log_sum_exp_of", c, x, h=1e-2)
