"""Hidden tests for assignment 02: activation functions and their derivatives."""

import torch

from autograder.suites.checks import check, compare, points, rand, within

F32, F64 = torch.float32, torch.float64
LARGE32 = torch.tensor([[-1000.0, -100.0, -90.0, 0.0, 90.0, 100.0, 1000.0]])
LARGE64 = torch.tensor([[-1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4]], dtype=F64)


# -- sigmoid ---------------------------------------------------------------------------------------
@points(1, "sigmoid")
def test_sigmoid_float32(student, ref):
    """sigmoid matches the formula on float32 inputs"""
    z = rand(7, 5, seed=11, scale=3)
    compare(student, ref, "sigmoid", z, hint="compute 1 / (1 + exp(-z)) elementwise",
            likely={"the sign is flipped: sigmoid(z) = 1 / (1 + exp(-z)), with a minus": 1 - ref.sigmoid(z)})


@points(1, "sigmoid")
def test_sigmoid_float64(student, ref):
    """sigmoid keeps float64 and its precision"""
    compare(student, ref, "sigmoid", rand(3, 4, dtype=F64, seed=12, scale=4),
            hint="compute 1 / (1 + exp(-z)) in the input's dtype")


@points(1, "sigmoid")
def test_sigmoid_stable(student, ref):
    """sigmoid is finite and within [0, 1] for inputs like -1000 and 1000"""
    hint = ("exp(-z) overflows for large negative z (exp(89) is already inf in float32): use "
            "exp(-|z|), with 1 / (1 + e) where z >= 0 and e / (1 + e) where z < 0")
    for z in (LARGE32, LARGE64):
        got = compare(student, ref, "sigmoid", z, hint=hint, nonfinite_hint=hint)
        check(bool(((got >= 0) & (got <= 1)).all()), f"sigmoid must stay within [0, 1]: {hint}")


# -- sigmoid_derivative ------------------------------------------------------------------------------
@points(1, "sigmoid_derivative")
def test_sigmoid_derivative_float32(student, ref):
    """sigmoid_derivative matches sigmoid(z) * (1 - sigmoid(z)) on float32 inputs"""
    z = rand(7, 5, seed=21, scale=3)
    s = ref.sigmoid(z)
    compare(student, ref, "sigmoid_derivative", z, hint="the derivative is sigmoid(z) * (1 - sigmoid(z))",
            likely={"this is sigmoid(z) itself, not its derivative s * (1 - s)": s,
                    "use sigmoid(z) * (1 - sigmoid(z)), not z * (1 - z)": z * (1 - z)})


@points(1, "sigmoid_derivative")
def test_sigmoid_derivative_float64_and_stable(student, ref):
    """sigmoid_derivative keeps float64 and stays finite for large inputs"""
    compare(student, ref, "sigmoid_derivative", rand(3, 4, dtype=F64, seed=22, scale=4),
            hint="the derivative is sigmoid(z) * (1 - sigmoid(z)), in the input's dtype")
    compare(student, ref, "sigmoid_derivative", LARGE32, hint="use your stable sigmoid",
            nonfinite_hint="compute it from your stable sigmoid, not from exp(-z) directly")


# -- tanh ----------------------------------------------------------------------------------------------
@points(1, "tanh")
def test_tanh_float32(student, ref):
    """tanh matches the formula on float32 inputs"""
    z = rand(7, 5, seed=31, scale=2)
    compare(student, ref, "tanh", z, hint="compute (exp(z) - exp(-z)) / (exp(z) + exp(-z))",
            likely={"this is sigmoid, not tanh": 1 / (1 + torch.exp(-z))})


@points(1, "tanh")
def test_tanh_float64(student, ref):
    """tanh keeps float64 and its precision"""
    compare(student, ref, "tanh", rand(3, 4, dtype=F64, seed=32, scale=3),
            hint="compute (exp(z) - exp(-z)) / (exp(z) + exp(-z)) in the input's dtype")


@points(1, "tanh")
def test_tanh_stable(student, ref):
    """tanh is finite and within [-1, 1] for inputs like -1000 and 1000"""
    hint = ("exp(z) overflows for large |z| and inf / inf is nan: use e = exp(-2|z|) and "
            "tanh(z) = sign(z) * (1 - e) / (1 + e)")
    for z in (LARGE32, LARGE64):
        got = compare(student, ref, "tanh", z, hint=hint, nonfinite_hint=hint)
        check(bool(((got >= -1) & (got <= 1)).all()), f"tanh must stay within [-1, 1]: {hint}")


# -- tanh_derivative -------------------------------------------------------------------------------
@points(1, "tanh_derivative")
def test_tanh_derivative_float32(student, ref):
    """tanh_derivative matches 1 - tanh(z)**2 on float32 inputs"""
    z = rand(7, 5, seed=41, scale=2)
    t = torch.tanh(z)
    compare(student, ref, "tanh_derivative", z, hint="the derivative is 1 - tanh(z)**2",
            likely={"use 1 - tanh(z)**2, not 1 - tanh(z)": 1 - t, "use 1 - tanh(z)**2, not 1 - z**2": 1 - z ** 2})


@points(1, "tanh_derivative")
def test_tanh_derivative_float64_and_stable(student, ref):
    """tanh_derivative keeps float64 and stays finite for large inputs"""
    compare(student, ref, "tanh_derivative", rand(3, 4, dtype=F64, seed=42, scale=3),
            hint="the derivative is 1 - tanh(z)**2, in the input's dtype")
    compare(student, ref, "tanh_derivative", LARGE32, hint="use your stable tanh",
            nonfinite_hint="compute it from your stable tanh")


# -- relu --------------------------------------------------------------------------------------------
@points(1, "relu")
def test_relu_values(student, ref):
    """relu matches max(0, z) in float32 and float64"""
    for z in (rand(7, 5, seed=51), rand(3, 4, dtype=F64, seed=52)):
        compare(student, ref, "relu", z, hint="relu(z) = max(0, z): keep positives, zero the rest",
                likely={"negative inputs must become 0, positives stay as they are": z.clamp(max=0),
                        "this is the derivative (0/1), not relu itself": (z > 0).to(z.dtype)})


@points(1, "relu")
def test_relu_zero_and_large(student, ref):
    """relu handles zeros, -0.0 and large inputs"""
    z = torch.tensor([[-1000.0, -0.0, 0.0, 1e-30, 1000.0]])
    compare(student, ref, "relu", z, hint="relu(z) = max(0, z)")


# -- relu_derivative ------------------------------------------------------------------------------------
@points(1, "relu_derivative")
def test_relu_derivative_values(student, ref):
    """relu_derivative is 1.0 where z > 0 and 0.0 elsewhere, in the input's dtype"""
    for z in (rand(7, 5, seed=61), rand(3, 4, dtype=F64, seed=62)):
        compare(student, ref, "relu_derivative", z, hint="1.0 where z > 0, else 0.0", kind="exact",
                likely={"this is relu itself, not its derivative": z.clamp(min=0)})


@points(1, "relu_derivative")
def test_relu_derivative_at_zero(student, ref):
    """relu_derivative(0) = 0 (the convention)"""
    z = torch.tensor([-2.0, -0.0, 0.0, 1e-30, 3.0])
    compare(student, ref, "relu_derivative", z,
            hint="the convention is relu'(0) = 0: use z > 0, not z >= 0", kind="exact",
            likely={"the convention is relu'(0) = 0: use z > 0, not z >= 0": (z >= 0).to(z.dtype)})


# -- softmax -------------------------------------------------------------------------------------------
@points(1, "softmax")
def test_softmax_float32(student, ref):
    """softmax matches the formula along the last dimension by default"""
    z = rand(7, 5, seed=71, scale=2)
    compare(student, ref, "softmax", z, hint="exp(z) / sum(exp(z)) along `dim`",
            likely={"you normalised along the wrong dimension: sum along `dim` with keepdim=True":
                    ref.softmax(z, dim=0),
                    "divide by the sum of each row, not the sum of the whole tensor": torch.exp(z) / torch.exp(z).sum()})


@points(1, "softmax")
def test_softmax_dim_argument(student, ref):
    """softmax respects the `dim` argument (float64, 3-D input)"""
    z = rand(3, 5, 7, dtype=F64, seed=72)
    for dim in (0, 1, -1):
        compare(student, ref, "softmax", z, dim=dim, hint="normalise along the `dim` you are given",
                likely={"you ignore `dim`: normalise along the dimension you are given": ref.softmax(z, dim=-1)})


@points(1, "softmax")
def test_softmax_stable(student, ref):
    """softmax is finite for logits like 1e4 and rows like [1000, 1000]"""
    hint = "exp overflows for large logits: subtract each row's max first (softmax does not change)"
    for z in (torch.tensor([[1000.0, 1000.0], [0.0, 0.0], [-1e4, 1e4]]),
              torch.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=F64)):
        got = compare(student, ref, "softmax", z, hint=hint, nonfinite_hint=hint,
                      likely={"subtract the max of each row (keepdim=True), not the max of the whole tensor":
                              ref.softmax(z - z.max())})
        check(within(got.sum(-1), torch.ones(len(z), dtype=z.dtype)), f"rows must sum to 1: {hint}")


@points(1, "softmax")
def test_softmax_keeps_input(student, ref):
    """softmax does not modify its input"""
    compare(student, ref, "softmax", rand(5, 7, seed=73), hint="exp(z) / sum(exp(z)) along `dim`")
