"""Hidden tests for assignment 03: He initialisation, dense layers, the MLP forward pass and XOR."""

import math

import torch

from autograder.suites.checks import check, compare, describe, fail, fixture, pairs_like, points, rand, tensor_like
from autograder.runner.session import StudentError

F32, F64 = torch.float32, torch.float64
ACTIVATIONS = ("relu", "sigmoid", "tanh", "step")
XOR_X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])


# -- helpers ------------------------------------------------------------------------------------------
def act_of(name: str):
    return {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "step": lambda z: (z >= 0).to(z.dtype)}[name]


def net(sizes: list[int], seed: int, dtype: torch.dtype = F32) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Seeded parameters with non-zero biases (grader-side, not init_params)."""
    return [(rand(d_in, d_out, dtype=dtype, seed=seed + i, scale=1.5 / math.sqrt(d_in)),
             rand(d_out, dtype=dtype, seed=seed + 50 + i, scale=0.5))
            for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:]))]


def forward_variant(x, params, activation, *, last=False, before=False):
    """What typical wrong forward passes return."""
    act = act_of(activation)
    h = x
    for i, (W, b) in enumerate(params):
        is_last = i == len(params) - 1
        if before:
            h = act(h) @ W + b
            continue
        h = h @ W + b
        if not is_last or last:
            h = act(h)
    return h


def forward_mistakes(x, params, activation):
    out = {"the last layer has no activation: return dense(h, W, b) of the last layer as it is (logits)":
           forward_variant(x, params, activation, last=True),
           "apply the activation after each hidden dense layer, not before it (and never to the input)":
           forward_variant(x, params, activation, before=True)}
    if len(params) > 2 and params[0][0].shape[1] == params[-1][0].shape[0]:
        out["loop over every hidden layer, not only the first one"] = \
            forward_variant(x, [params[0], params[-1]], activation)
    if activation != "relu":
        out["use the activation named by `activation`, not always relu"] = forward_variant(x, params, "relu")
    for other in ("sigmoid", "tanh"):
        if activation in ("sigmoid", "tanh") and other != activation:
            out[f"activation={activation!r} must apply {activation}, not {other}"] = forward_variant(x, params, other)
    return out


# -- init_params -------------------------------------------------------------------------------------
# The SYLLABUS fixes the distribution of W (He: N(0, 2/d_in)), b = zeros and reproducibility by seed, not
# the order of the draws: W is checked by those properties, never against the reference's exact numbers.
def seeded_params(student, sizes, state):
    """init_params(sizes, generator=<a generator in ``state``>): (its params, the generator's state after)."""
    got, _, kwargs_after = student.call_returning_args("init_params", sizes,
                                                        generator=fixture("generator_from_state", state))
    expected_shapes = [(torch.zeros(d_in, d_out), torch.zeros(d_out)) for d_in, d_out in zip(sizes[:-1], sizes[1:])]
    pairs = pairs_like(got, expected_shapes, "init_params")
    for i, ((W, b), (W0, b0)) in enumerate(zip(pairs, expected_shapes), start=1):
        tensor_like(W, W0, f"init_params: W{i} (float32, shape (d_in, d_out))")
        tensor_like(b, b0, f"init_params: b{i} (float32, shape (d_out,))")
    return pairs, kwargs_after.get("generator")


@points(2, "init_params")
def test_init_params_seeded_draws(student, ref):
    """init_params draws W from the generator it is given: the same generator state gives exactly the same
    params, and the generator advances"""
    for sizes, seed in (([5, 7, 3], 13), ([3, 11, 7, 2], 29)):
        state = torch.Generator().manual_seed(seed).get_state()
        first, after = seeded_params(student, sizes, state)
        again, _ = seeded_params(student, sizes, state)
        check(all(torch.equal(a, b) for pa, pb in zip(first, again) for a, b in zip(pa, pb)),
              "init_params: two generators in the same state gave different parameters: draw every W from the "
              "generator you are given (generator=generator), not from the global random state")
        check(type(after) is torch.Tensor and not torch.equal(after, state),
              "init_params: the generator is in the same state afterwards: draw W from it "
              "(torch.randn(..., generator=generator)), so that the seed decides the parameters")
        following, _ = seeded_params(student, sizes, after)
        check(not all(torch.equal(a, b) for pa, pb in zip(first, following) for a, b in zip(pa[:1], pb[:1])),
              "init_params: a generator in another state gave the same weights: draw W from the generator "
              "you are given")


@points(1, "init_params")
def test_init_params_structure(student, ref):
    """init_params returns one (W (d_in, d_out), b zeros (d_out,)) float32 pair per consecutive sizes"""
    for sizes in ([3, 11, 7, 2], [13, 1]):
        got = pairs_like(student.init_params(sizes, fixture("generator", 17)), list(zip(sizes[:-1], sizes[1:])),
                         "init_params")
        for i, ((W, b), (d_in, d_out)) in enumerate(zip(got, zip(sizes[:-1], sizes[1:])), start=1):
            tensor_like(W, torch.zeros(d_in, d_out), f"init_params: W{i} (float32, shape (d_in, d_out))")
            tensor_like(b, torch.zeros(d_out), f"init_params: b{i} (float32, shape (d_out,))")
            check(torch.equal(b, torch.zeros(d_out)), f"init_params: b{i} must be zeros(d_out)")
            check(bool(torch.isfinite(W).all()) and bool((W != 0).any()), f"init_params: W{i} must be random draws")


@points(1, "init_params")
def test_init_params_reproducible(student, ref):
    """init_params gives the same parameters for the same generator seed and others for another seed"""
    sizes = [7, 5, 3]
    a = pairs_like(student.init_params(sizes, fixture("generator", 41)), [0, 0], "init_params")
    b = pairs_like(student.init_params(sizes, generator=fixture("generator", 41)), [0, 0], "init_params")
    c = pairs_like(student.init_params(sizes, fixture("generator", 42)), [0, 0], "init_params")
    for (Wa, _), (Wb, _) in zip(a, b):
        check(type(Wa) is torch.Tensor and type(Wb) is torch.Tensor and Wa.shape == Wb.shape and torch.equal(Wa, Wb),
              "init_params: the same generator seed must give the same weights: draw with generator=generator")
    check(not all(torch.equal(Wa, Wc) for (Wa, _), (Wc, _) in zip(a, c)),
          "init_params: another generator seed must give other weights: pass `generator` to torch.randn")


@points(1, "init_params")
def test_init_params_he_scale(student, ref):
    """init_params draws W with standard deviation sqrt(2 / d_in) (He), for every layer"""
    sizes = [400, 300, 10]
    got = pairs_like(student.init_params(sizes, fixture("generator", 23)), [0, 0], "init_params")
    for i, ((W, _), (d_in, d_out)) in enumerate(zip(got, zip(sizes[:-1], sizes[1:])), start=1):
        tensor_like(W, torch.zeros(d_in, d_out), f"init_params: W{i}")
        ratio = float(W.double().std()) / math.sqrt(2.0 / d_in)
        if abs(ratio - 1) < 0.1 and abs(float(W.double().mean())) < 0.05 * math.sqrt(2.0 / d_in) + 0.01:
            continue
        for message, wrong in (("use sqrt(2 / d_in), not sqrt(1 / d_in)", math.sqrt(0.5)),
                               ("multiply by the standard deviation sqrt(2 / d_in), not by the variance 2 / d_in",
                                math.sqrt(2.0 / d_in)),
                               ("use d_in, the layer's input size, not d_out", math.sqrt(d_in / d_out)),
                               ("scale the standard normal draws by sqrt(2 / d_in)", 1 / math.sqrt(2.0 / d_in))):
            if abs(ratio / wrong - 1) < 0.1:
                fail(f"init_params: the weights of layer {i} have the wrong spread: {message}")
        fail(f"init_params: the weights of layer {i} should have mean 0 and standard deviation sqrt(2 / d_in) (He)")


# -- dense -------------------------------------------------------------------------------------------------
def dense_mistakes(x, W, b):
    return {"the bias is missing: dense computes x @ W + b": x @ W,
            "add the bias, do not subtract it: x @ W + b": x @ W - b}


@points(1, "dense")
def test_dense_float32(student, ref):
    """dense computes x @ W + b for a float32 batch (n, d_in) -> (n, d_out)"""
    x, W, b = rand(7, 5, seed=301), rand(5, 3, seed=302), rand(3, seed=303)
    compare(student, ref, "dense", x, W, b, hint="dense(x, W, b) = x @ W + b", likely=dense_mistakes(x, W, b))


@points(1, "dense")
def test_dense_float64(student, ref):
    """dense keeps float64 and its precision"""
    x, W, b = rand(3, 11, dtype=F64, seed=311), rand(11, 2, dtype=F64, seed=312), rand(2, dtype=F64, seed=313)
    compare(student, ref, "dense", x, W, b, hint="dense(x, W, b) = x @ W + b, in the dtype of x",
            likely=dense_mistakes(x, W, b))


@points(1, "dense")
def test_dense_square_weights(student, ref):
    """dense uses W as (d_in, d_out) when W is square"""
    x, W, b = rand(13, 5, seed=321), rand(5, 5, seed=322), rand(5, seed=323)
    compare(student, ref, "dense", x, W, b, hint="dense(x, W, b) = x @ W + b",
            likely={"W is (d_in, d_out): use x @ W, not x @ W.T": x @ W.T + b} | dense_mistakes(x, W, b))


@points(1, "dense")
def test_dense_single_row_float64(student, ref):
    """dense of a single row (1, d_in) keeps the shape (1, d_out)"""
    x, W, b = rand(1, 7, dtype=F64, seed=331), rand(7, 3, dtype=F64, seed=332), rand(3, dtype=F64, seed=333)
    compare(student, ref, "dense", x, W, b, hint="dense(x, W, b) = x @ W + b, shape (n, d_out)",
            likely=dense_mistakes(x, W, b))


# -- forward ---------------------------------------------------------------------------------------------------
@points(2, "forward")
def test_forward_relu_default(student, ref):
    """forward with the default activation (relu) through three hidden layers gives the logits (float32)"""
    x, params = rand(13, 5, seed=401), net([5, 7, 11, 3], seed=402)
    compare(student, ref, "forward", x, params,
            hint="hidden layers: h = relu(dense(h, W, b)); the last layer: dense alone; loop over every layer",
            likely=forward_mistakes(x, params, "relu"))


@points(1, "forward")
def test_forward_sigmoid_tanh(student, ref):
    """forward applies sigmoid or tanh in the hidden layers when asked (float32)"""
    x, params = rand(11, 3, seed=411), net([3, 7, 5, 2], seed=412)
    for activation in ("sigmoid", "tanh"):
        compare(student, ref, "forward", x, params, activation=activation,
                hint=f"hidden layers: h = {activation}(dense(h, W, b)); the last layer: dense alone",
                likely=forward_mistakes(x, params, activation))


@points(1, "forward")
def test_forward_step(student, ref):
    """forward applies step in the hidden layers with activation="step" (float32)"""
    x, params = rand(7, 3, seed=421, scale=2), net([3, 5, 5, 2], seed=422)
    compare(student, ref, "forward", x, params, activation="step",
            hint="hidden layers: h = step(dense(h, W, b)); the last layer: dense alone",
            likely=forward_mistakes(x, params, "step"))


@points(1, "forward")
def test_forward_float64_all_activations(student, ref):
    """forward keeps float64 parameters and inputs in float64, for all four activations"""
    x, params = rand(5, 3, dtype=F64, seed=431), net([3, 5, 7, 2], seed=432, dtype=F64)
    for activation in ACTIVATIONS:
        compare(student, ref, "forward", x, params, activation=activation,
                hint=f"hidden layers: h = {activation}(dense(h, W, b)); the last layer: dense alone, in float64",
                likely=forward_mistakes(x, params, activation))


@points(1, "forward")
def test_forward_single_layer(student, ref):
    """forward with a single layer is dense alone, whatever the activation"""
    x, params = rand(7, 5, seed=441), net([5, 3], seed=442)
    for activation in ACTIVATIONS:
        compare(student, ref, "forward", x, params, activation=activation,
                hint="with one layer there is no hidden layer: forward is dense(x, W, b), with no activation",
                likely=forward_mistakes(x, params, activation))


# -- xor_params --------------------------------------------------------------------------------------------------
def xor_pairs(student) -> list:
    got = student.xor_params()
    return pairs_like(got, [0, 0], "xor_params")


@points(1, "xor_params")
def test_xor_params_shapes(student, ref):
    """xor_params returns [(W1 (2, 2), b1 (2,)), (W2 (2, 1), b2 (1,))]"""
    (W1, b1), (W2, b2) = xor_pairs(student)
    for name, value, shape in (("W1", W1, (2, 2)), ("b1", b1, (2,)), ("W2", W2, (2, 1)), ("b2", b2, (1,))):
        if type(value) is not torch.Tensor:
            fail(f"xor_params: {name} is {describe(value)}; expected a tensor of shape {shape}")
        check(tuple(value.shape) == shape, f"xor_params: {name} has shape {tuple(value.shape)}; expected {shape}")


@points(1, "xor_params")
def test_xor_params_float32(student, ref):
    """xor_params returns float32 tensors"""
    for name, value in zip(("W1", "b1", "W2", "b2"), (t for pair in xor_pairs(student) for t in pair)):
        if type(value) is not torch.Tensor:
            fail(f"xor_params: {name} is {describe(value)}; expected a float32 tensor")
        check(value.dtype == F32, f"xor_params: {name} is {str(value.dtype).removeprefix('torch.')}; expected "
              "float32: write the numbers as floats like 1.0 (or pass dtype=torch.float32)")


@points(2, "xor_params")
def test_xor_params_computes_xor(student, ref):
    """step(forward(X, xor_params(), activation="step")) is XOR on the four inputs"""
    params = xor_pairs(student)
    for pair in params:
        for value in pair:
            if type(value) is not torch.Tensor:
                fail(f"xor_params: found {describe(value)}; expected tensors")
    params = [(W.to(F32), b.to(F32)) for W, b in params]
    try:
        out = ref.forward(XOR_X, params, activation="step")
    except StudentError:
        fail("xor_params: these parameters do not fit a 2-2-1 network: W1 (2, 2), b1 (2,), W2 (2, 1), b2 (1,)")
    if type(out) is not torch.Tensor or out.numel() != 4:
        fail("xor_params: the network must give one output per input: W2 (2, 1), b2 (1,)")
    got = (out.reshape(4, 1) >= 0).to(F32)
    wrong = [tuple(int(v) for v in XOR_X[i].tolist()) for i in range(4) if got[i, 0] != XOR_Y[i, 0]]
    if wrong:
        cases = ", ".join(f"XOR{w}" for w in wrong)
        fail(f"xor_params: the step network gets {cases} wrong. Try a hidden OR unit and a hidden AND unit, then "
             "output OR and not AND; remember step(0) = 1, so put each threshold strictly between "
             "the sums that must give 0 and those that must give 1")
