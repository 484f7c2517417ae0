"""Hidden tests for assignment 01: the neuron, the step function and Rosenblatt's rule."""

from itertools import accumulate

import torch

from autograder.suites.checks import check, close, compare, describe, fail, points, rand, tensor_like, unchanged, within

F32, F64 = torch.float32, torch.float64
GATES = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
AND, OR, NAND, XOR = ([0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0])


def integers(*shape: int, dtype: torch.dtype = F32, seed: int = 0) -> torch.Tensor:
    """Seeded small whole numbers (exact in any float dtype), so that sums can be exactly 0."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(-3, 4, shape, generator=g).to(dtype)


def separable(rows: int, features: int, seed: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded linearly separable data set: targets from a hidden linear rule."""
    X = rand(rows, features, dtype=dtype, seed=seed)
    w_true = rand(features, dtype=dtype, seed=seed + 1000)
    return X, ((X @ w_true + 0.2) >= 0).to(dtype)


# -- helpers ---------------------------------------------------------------------------------------
def call_checked(student, name, *args, **kwargs):
    """Call ``name`` in the student's module; its tensor arguments must come back unchanged."""
    got, args_after, kwargs_after = student.call_returning_args(name, *args, **kwargs)
    names = {"update": ("x", "y", "w", "b", "lr"), "train": ("X", "y", "lr", "max_epochs")}[name]
    for argument, before, after in zip(names, args, args_after):
        unchanged(before, after, name, argument)
    return got


def update_both(student, ref, x, y, w, b, lr, likely):
    """Compare update's (w_new, b_new) with the reference's; ``likely`` maps messages to wrong pairs."""
    got = call_checked(student, "update", x, y, w, b, lr)
    expected = ref.update(x, y, w, b, lr)
    if type(got) not in (tuple, list) or len(got) != 2:
        fail(f"update returned {describe(got)}; expected a pair (w_new, b_new)")
    w_new, b_new = got
    if type(b_new) is not torch.Tensor:
        fail(f"update returned b_new as {describe(b_new)}; b_new must be a 0-d tensor even when b is a "
             "float (for example `torch.as_tensor(b + lr * e, dtype=w.dtype)`)")
    tensor_like(w_new, expected[0], "update's w_new")
    tensor_like(b_new, expected[1], "update's b_new (a 0-d tensor in the dtype of w)")
    if within(w_new, expected[0]) and within(b_new, expected[1]):
        return
    for message, (w_alt, b_alt) in likely.items():
        if within(w_new, torch.as_tensor(w_alt, dtype=w_new.dtype)) and \
                within(b_new, torch.as_tensor(b_alt, dtype=b_new.dtype)):
            fail(f"update: {message}")
    close(w_new, expected[0], "update's w_new", "w_new = w + lr * e * x with e = y - predict(x, w, b)")
    close(b_new, expected[1], "update's b_new", "b_new = b + lr * e with e = y - predict(x, w, b)")


def train_both(student, ref, X, y, **kwargs):
    """Run train on both sides; w, b and the mistakes list must match the reference's exactly."""
    got = call_checked(student, "train", X, y, **kwargs)
    w_ref, b_ref, m_ref = ref.train(X, y, **kwargs)
    if type(got) not in (tuple, list) or len(got) != 3:
        fail(f"train returned {describe(got)}; expected a triple (w, b, mistakes)")
    w, b, mistakes = got
    if type(mistakes) is not list:
        fail(f"train returned mistakes as {describe(mistakes)}; expected a list with one int per epoch")
    for m in mistakes:
        if type(m) is not int:
            fail(f"train's mistakes must hold plain Python ints, one per epoch; found {describe(m)} "
                 "(convert a count with int(...) or .item())")
    max_epochs = kwargs.get("max_epochs", 100)
    if mistakes != m_ref:
        if m_ref[-1] == 0 and mistakes == m_ref[:-1]:
            fail("train: the mistakes list misses the last epoch: append the epoch's count (0) before stopping")
        if m_ref[-1] == 0 and len(mistakes) > len(m_ref) and mistakes[:len(m_ref)] == m_ref:
            fail("train: training must stop right after the first epoch with no mistakes")
        if mistakes == list(accumulate(m_ref)) and len(m_ref) > 1:
            fail("train: the mistake count must start again from 0 at every epoch")
        if len(m_ref) == max_epochs and len(mistakes) in (max_epochs - 1, max_epochs + 1):
            fail("train: run at most `max_epochs` epochs (exactly that many when no epoch is error-free): "
                 "check the range of your epoch loop")
        fail("train: the mistakes per epoch are wrong: start from w = 0 and b = 0, visit the rows of X in "
             "order, count a row when it is misclassified *before* its update, then apply update")
    check(type(w) is torch.Tensor and type(b) is torch.Tensor,
          f"train must return w and b as tensors; got {describe(w)} and {describe(b)}")
    close(w, w_ref, "train's w (in the dtype of X)",
          "the mistakes per epoch are right but w is not: apply update with the given `lr`")
    close(b, b_ref, "train's b (a 0-d tensor in the dtype of X)",
          "the mistakes per epoch are right but b is not: apply update with the given `lr`")
    return w, b, mistakes


# -- weighted_sum ------------------------------------------------------------------------------------
def bias_mistakes(x, w, b):
    return {"the bias is missing: z = x @ w + b": x @ w, "add the bias, do not subtract it: z = x @ w + b": x @ w - b}


@points(1, "weighted_sum")
def test_weighted_sum_batch_float32(student, ref):
    """weighted_sum of a float32 batch (n, d) gives one sum per row, shape (n,)"""
    x, w, b = rand(7, 5, seed=101), rand(5, seed=102), rand(1, seed=103).reshape(())
    compare(student, ref, "weighted_sum", x, w, b, hint="z = x @ w + b: one dot product per row, plus b",
            likely=bias_mistakes(x, w, b))


@points(1, "weighted_sum")
def test_weighted_sum_one_example_float64(student, ref):
    """weighted_sum of one float64 example (d,) is a 0-d tensor, with b given as a float"""
    x, w = rand(5, dtype=F64, seed=111), rand(5, dtype=F64, seed=112)
    compare(student, ref, "weighted_sum", x, w, -0.375, hint="z = x @ w + b, a single number for one example",
            likely=bias_mistakes(x, w, -0.375))


@points(1, "weighted_sum")
def test_weighted_sum_square_batch(student, ref):
    """weighted_sum multiplies each row of x by w when the batch is square (n = d)"""
    x, w = rand(5, 5, dtype=F64, seed=121), rand(5, dtype=F64, seed=122)
    b = torch.tensor(0.5, dtype=F64)
    compare(student, ref, "weighted_sum", x, w, b, hint="z = x @ w + b, row by row",
            likely={"use x @ w (rows of x times w), not w @ x": w @ x + b} | bias_mistakes(x, w, b))


@points(1, "weighted_sum")
def test_weighted_sum_float_bias_batch(student, ref):
    """weighted_sum keeps the dtype of x when b is a Python float (float32 and float64 batches)"""
    for x, w in ((rand(3, 7, seed=131), rand(7, seed=132)),
                 (rand(11, 3, dtype=F64, seed=133), rand(3, dtype=F64, seed=134))):
        compare(student, ref, "weighted_sum", x, w, 1.25, hint="z = x @ w + b, one sum per row",
                likely=bias_mistakes(x, w, 1.25))


# -- step ----------------------------------------------------------------------------------------------
def step_values(student, ref, z):
    got = student.step(z)
    if type(got) is torch.Tensor and got.dtype == torch.bool:
        fail("step returned a bool tensor; it must return 0.0 and 1.0 in the dtype of z: convert with .to(z.dtype)")
    compare(student, ref, "step", z, hint="step(z) is 1.0 where z >= 0 and 0.0 elsewhere", kind="exact",
            likely={"step(0) must be 1.0: use z >= 0, not z > 0": (z > 0).to(z.dtype),
                    "step(0) must be 1.0, not 0.5": (torch.sign(z) + 1) / 2})


@points(1, "step")
def test_step_float32(student, ref):
    """step is 1.0 where z >= 0 and 0.0 elsewhere on a float32 batch with some exact zeros"""
    z = rand(7, 5, seed=141)
    z[::2, 1] = 0.0
    step_values(student, ref, z)


@points(1, "step")
def test_step_at_zero(student, ref):
    """step(0) = 1.0 (also for -0.0), and tiny values are on the right side"""
    step_values(student, ref, torch.tensor([-1e-30, -0.0, 0.0, 1e-30, -3.0, 2.0]))


@points(1, "step")
def test_step_float64_3d(student, ref):
    """step keeps the shape and dtype of a float64 3-D input (floats, not bools)"""
    z = integers(3, 5, 7, dtype=F64, seed=151)
    step_values(student, ref, z)


@points(1, "step")
def test_step_0d(student, ref):
    """step of a 0-d tensor is a 0-d tensor (float32 and float64)"""
    for z in (torch.tensor(0.0), torch.tensor(-2.5, dtype=F64), torch.tensor(0.0, dtype=F64)):
        step_values(student, ref, z)


# -- predict ---------------------------------------------------------------------------------------------
@points(1, "predict")
def test_predict_batch_float32(student, ref):
    """predict gives 0.0 or 1.0 per row of a float32 batch"""
    x, w, b = rand(7, 5, seed=161), rand(5, seed=162), rand(1, seed=163).reshape(())
    z = x @ w + b
    compare(student, ref, "predict", x, w, b, hint="predict = step(weighted_sum(x, w, b))", kind="exact",
            likely={"apply step to the weighted sum: predict returns 0.0 or 1.0": z,
                    "check the bias: predict = step(x @ w + b)": (x @ w >= 0).to(F32)})


@points(1, "predict")
def test_predict_on_the_boundary(student, ref):
    """predict is 1.0 where the weighted sum is exactly 0 (float64 batch)"""
    x, w = integers(11, 3, dtype=F64, seed=171), integers(3, dtype=F64, seed=172)
    b = torch.tensor(1.0, dtype=F64)
    compare(student, ref, "predict", x, w, b, hint="predict = step(weighted_sum(x, w, b)), and step(0) = 1.0",
            kind="exact",
            likely={"where the weighted sum is exactly 0 the prediction is 1.0 (step(0) = 1)": (x @ w + b > 0).to(F64)})


@points(1, "predict")
def test_predict_one_example(student, ref):
    """predict of one example (d,) is a 0-d tensor in the dtype of x, with b a float"""
    for x, w, b in ((rand(5, dtype=F64, seed=181), rand(5, dtype=F64, seed=182), 0.125),
                    (integers(7, seed=183), integers(7, seed=184), 0.0)):
        compare(student, ref, "predict", x, w, b, hint="predict = step(weighted_sum(x, w, b)), a 0-d tensor",
                kind="exact",
                likely={"apply step to the weighted sum: predict returns 0.0 or 1.0": x @ w + b})


# -- update -----------------------------------------------------------------------------------------------
def wrong_updates(x, w, b, lr, e):
    """Pairs that typical wrong updates return, when the error is e."""
    return {"the error is y - predict(x, w, b), not predict - y: the sign is flipped": (w - lr * e * x, b - lr * e),
            "multiply the bias step by lr too: b_new = b + lr * e": (w + lr * e * x, b + e),
            "multiply the step by lr: w_new = w + lr * e * x": (w + e * x, b + e)}


@points(1, "update")
def test_update_missed_positive(student, ref):
    """update moves w and b towards a misclassified positive example (float32, lr = 0.5)"""
    x, w = rand(5, seed=191), rand(5, seed=192)
    b = -(x @ w) - 1.5  # predicts 0 for a target 1
    update_both(student, ref, x, 1.0, w, b, 0.5, wrong_updates(x, w, b, 0.5, 1.0))


@points(1, "update")
def test_update_false_positive(student, ref):
    """update moves w and b away from a misclassified negative example (float64, y a 0-d tensor)"""
    x, w = rand(7, dtype=F64, seed=201), rand(7, dtype=F64, seed=202)
    b = -(x @ w) + 0.75  # predicts 1 for a target 0
    update_both(student, ref, x, torch.tensor(0.0, dtype=F64), w, b, 0.25, wrong_updates(x, w, b, 0.25, -1.0))


@points(1, "update")
def test_update_correct_example_float_bias(student, ref):
    """update changes nothing for a correct example and returns b_new as a 0-d tensor when b is a float"""
    x, w = rand(5, seed=211), rand(5, seed=212)
    b = float(-(x @ w)) + 0.5  # predicts 1 for a target 1
    update_both(student, ref, x, 1.0, w, b, 0.75, {})
    x, w = rand(3, dtype=F64, seed=213), rand(3, dtype=F64, seed=214)
    update_both(student, ref, x, 0.0, w, float(-(x @ w)) - 0.5, 2.0, {})


@points(1, "update")
def test_update_on_the_boundary(student, ref):
    """update treats a weighted sum of exactly 0 as a prediction of 1.0 (float64, target 0)"""
    x, w = integers(5, dtype=F64, seed=221), integers(5, dtype=F64, seed=222)
    b = -(x @ w)  # the weighted sum is exactly 0, so predict is 1.0
    update_both(student, ref, x, 0.0, w, b, 1.0,
                {"predict(x, w, b) is 1.0 where the weighted sum is exactly 0 (step(0) = 1), so the error is -1":
                 (w, b)} | wrong_updates(x, w, b, 1.0, -1.0))


# -- train ---------------------------------------------------------------------------------------------------
@points(2, "train")
def test_train_logic_gates(student, ref):
    """train learns AND, OR and NAND with the exact mistakes per epoch, w and b (float32 and float64)"""
    train_both(student, ref, GATES.to(F64), torch.tensor(AND, dtype=F64))
    train_both(student, ref, GATES, torch.tensor(OR), lr=0.5)
    _, _, mistakes = train_both(student, ref, GATES, torch.tensor(NAND), lr=1.0, max_epochs=50)
    check(mistakes[-1] == 0, "train: NAND is learnable, so training must end with an epoch of 0 mistakes")


@points(1, "train")
def test_train_xor_runs_max_epochs(student, ref):
    """train on XOR never has an error-free epoch and runs exactly max_epochs epochs"""
    for max_epochs in (7, 1):
        _, _, mistakes = train_both(student, ref, GATES, torch.tensor(XOR), max_epochs=max_epochs)
        check(len(mistakes) == max_epochs, "train: XOR never converges, so train must run exactly max_epochs epochs")


@points(2, "train")
def test_train_separable_float64(student, ref):
    """train on a seeded separable float64 data set (7 rows, 5 features) matches Rosenblatt's rule exactly"""
    X, y = separable(7, 5, seed=106, dtype=F64)
    train_both(student, ref, X, y)


@points(1, "train")
def test_train_separable_float32_lr(student, ref):
    """train on a seeded separable float32 data set uses lr and stops at max_epochs"""
    X, y = separable(7, 5, seed=112, dtype=F32)
    train_both(student, ref, X, y, lr=0.5)
    train_both(student, ref, X, y, lr=0.25, max_epochs=2)


@points(1, "train")
def test_train_nothing_to_learn(student, ref):
    """train stops after one error-free epoch when w = 0, b = 0 already fit; w and b keep the dtype of X"""
    X = rand(5, 3, dtype=F64, seed=231)
    w, b, mistakes = train_both(student, ref, X, torch.ones(5, dtype=F64))
    check(mistakes == [0], "train: with w = 0 and b = 0 every row is predicted 1.0, so the first epoch has 0 mistakes")
