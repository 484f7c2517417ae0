"""Hidden tests for assignment 04: loss functions and their derivatives.

Derivatives are checked three ways: against the reference, against properties
(rows of the cross-entropy gradient sum to 0), and against central differences
in float64 of the *reference* loss, computed here in the grader (so a student's
derivative must be the slope of the correct loss, not merely of their own).
"""

import torch

from autograder.suites.checks import call_both, check, close, fail, labels, points, rand, within

F32, F64 = torch.float32, torch.float64

ZERO_D = ("a loss is a 0-d tensor (shape ()): average over all elements with `.mean()` and no `dim`, "
          "without `keepdim`, `.reshape(1)` or `torch.tensor([...])`")


def run(student, ref, name, *args, hint, likely=None, nonfinite_hint="", loss=False, **kwargs):
    """Call ``name`` on both sides; the student's result must match and leave the arguments unchanged.

    For a loss (``loss=True``) a result that is not 0-d gets its own message.
    """
    got, expected = call_both(student, ref, name, *args, **kwargs)
    if loss and type(got) is torch.Tensor and got.dim() != 0:
        fail(f"{name} returned shape {tuple(got.shape)}; {ZERO_D}")
    close(got, expected, name, hint, likely=likely, nonfinite_hint=nonfinite_hint)
    return got


def central_differences(loss, x, h=1e-6):
    """d loss / d x by central differences, float64, element by element (``loss`` maps x to a 0-d tensor)."""
    grad = torch.zeros_like(x)
    flat, out = x.clone().reshape(-1), grad.view(-1)
    for i in range(flat.numel()):
        plus, minus = flat.clone(), flat.clone()
        plus[i] += h
        minus[i] -= h
        out[i] = (loss(plus.reshape(x.shape)) - loss(minus.reshape(x.shape))) / (2 * h)
    return grad


def one_hot(targets, classes, dtype):
    out = torch.zeros(len(targets), classes, dtype=dtype)
    out[torch.arange(len(targets)), targets] = 1
    return out


def bce_values(p, y, eps=1e-7):
    p = p.clamp(eps, 1 - eps)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p))


def log_softmax(z):
    s = z - z.amax(dim=1, keepdim=True)
    return s - torch.log(torch.exp(s).sum(dim=1, keepdim=True))


# -- mse ---------------------------------------------------------------------------------------------
def mse_likely(y_pred, y_true):
    d = y_pred - y_true
    return {"this is the sum of the squared errors; mse is their mean": (d ** 2).sum(),
            "divide by the number of elements (`numel()`), not by the number of rows": (d ** 2).sum() / len(d),
            "square the errors: this is the mean absolute error": d.abs().mean(),
            "this is the root of the mean squared error: do not take the square root": (d ** 2).mean().sqrt()}


@points(1, "mse")
def test_mse_float32(student, ref):
    """mse matches the mean of the squared errors on a float32 batch"""
    y_pred, y_true = rand(7, 5, seed=411), rand(7, 5, seed=412)
    run(student, ref, "mse", y_pred, y_true, loss=True, hint="compute mean((y_pred - y_true)**2) over all elements",
        likely=mse_likely(y_pred, y_true))


@points(1, "mse")
def test_mse_float64_3d(student, ref):
    """mse averages over all elements of a 3-D float64 input and keeps float64"""
    y_pred, y_true = rand(3, 5, 2, dtype=F64, seed=413, scale=2), rand(3, 5, 2, dtype=F64, seed=414)
    run(student, ref, "mse", y_pred, y_true, loss=True,
        hint="compute mean((y_pred - y_true)**2) over all elements, in the input's dtype",
        likely=mse_likely(y_pred, y_true))


@points(1, "mse")
def test_mse_vector_and_zero(student, ref):
    """mse of 1-D float64 vectors is a 0-d tensor, and mse(y, y) = 0"""
    y_pred, y_true = rand(11, dtype=F64, seed=415), rand(11, dtype=F64, seed=416)
    run(student, ref, "mse", y_pred, y_true, loss=True, hint="compute mean((y_pred - y_true)**2)",
        likely=mse_likely(y_pred, y_true))
    got = run(student, ref, "mse", y_true, y_true, loss=True, hint="the error of a perfect prediction is 0")
    check(float(got) == 0.0, "mse(y, y) must be exactly 0")  # exact: y - y is exactly 0 in any order


# -- mse_derivative -------------------------------------------------------------------------------------
def mse_derivative_likely(y_pred, y_true):
    d = y_pred - y_true
    return {"divide by the number of elements N = y_pred.numel(): mse is a mean": 2 * d,
            "divide by the number of elements (`numel()`), not by the number of rows": 2 * d / len(d),
            "the sign is flipped: the derivative is 2 * (y_pred - y_true) / N": -2 * d / d.numel(),
            "the factor 2 is missing: d/dx x**2 = 2x": d / d.numel()}


@points(1, "mse_derivative")
def test_mse_derivative_float32(student, ref):
    """mse_derivative matches 2 * (y_pred - y_true) / N on a float32 batch"""
    y_pred, y_true = rand(7, 5, seed=421), rand(7, 5, seed=422)
    run(student, ref, "mse_derivative", y_pred, y_true, hint="the derivative is 2 * (y_pred - y_true) / y_pred.numel()",
        likely=mse_derivative_likely(y_pred, y_true))


@points(1, "mse_derivative")
def test_mse_derivative_float64_3d(student, ref):
    """mse_derivative keeps the shape and float64 dtype of a 3-D input"""
    y_pred, y_true = rand(3, 2, 5, dtype=F64, seed=423), rand(3, 2, 5, dtype=F64, seed=424)
    run(student, ref, "mse_derivative", y_pred, y_true,
        hint="the derivative is 2 * (y_pred - y_true) / y_pred.numel(), in the input's dtype",
        likely=mse_derivative_likely(y_pred, y_true))


@points(1, "mse_derivative")
def test_mse_derivative_vector(student, ref):
    """mse_derivative of 1-D float64 vectors matches the formula"""
    y_pred, y_true = rand(13, dtype=F64, seed=425, scale=3), rand(13, dtype=F64, seed=426)
    run(student, ref, "mse_derivative", y_pred, y_true, hint="the derivative is 2 * (y_pred - y_true) / y_pred.numel()",
        likely=mse_derivative_likely(y_pred, y_true))


@points(1, "mse_derivative")
def test_mse_derivative_is_the_slope_of_mse(student, ref):
    """mse_derivative equals the numerical slope of mse (central differences, float64)"""
    y_pred, y_true = rand(5, 3, dtype=F64, seed=427), rand(5, 3, dtype=F64, seed=428)
    got = student.mse_derivative(y_pred, y_true)
    numeric = central_differences(lambda p: ref.mse(p, y_true), y_pred)
    close(got, numeric, "mse_derivative", "it is not the slope of mse: nudging one element of y_pred by a tiny h "
          "changes mse by about h times your value there; the derivative is 2 * (y_pred - y_true) / N",
          kind="estimate", likely=mse_derivative_likely(y_pred, y_true))


# -- binary_cross_entropy ----------------------------------------------------------------------------------
def bce_likely(p, y, eps=1e-7):
    values = bce_values(p, y, eps)
    q = p.clamp(eps, 1 - eps)
    return {"this is the sum over the elements; binary cross-entropy is their mean": values.sum(),
            "the minus sign is missing: the loss must be positive": -values.mean(),
            "y goes with log(p) and (1 - y) with log(1 - p), not the other way round":
                -(y * torch.log(1 - q) + (1 - y) * torch.log(q)).mean(),
            "clamp p with the `eps` you are given, not a fixed value": bce_values(p, y).mean()}


@points(1, "binary_cross_entropy")
def test_binary_cross_entropy_float32(student, ref):
    """binary_cross_entropy matches -mean(y log p + (1-y) log(1-p)) on float32 probabilities"""
    p, y = rand(7, 5, seed=431, low=0.02, high=0.98), labels(35, 2, seed=432).reshape(7, 5).float()
    run(student, ref, "binary_cross_entropy", p, y, loss=True,
        hint="compute -mean(y * log(p) + (1 - y) * log(1 - p)) over all elements", likely=bce_likely(p, y))


@points(1, "binary_cross_entropy")
def test_binary_cross_entropy_float64(student, ref):
    """binary_cross_entropy keeps float64 on a 1-D input"""
    p, y = rand(17, dtype=F64, seed=433, low=0.01, high=0.99), labels(17, 2, seed=434).to(F64)
    run(student, ref, "binary_cross_entropy", p, y, loss=True,
        hint="compute -mean(y * log(p) + (1 - y) * log(1 - p)) in the input's dtype", likely=bce_likely(p, y))


@points(1, "binary_cross_entropy")
def test_binary_cross_entropy_p_zero_or_one(student, ref):
    """binary_cross_entropy is finite when p is exactly 0 or 1 (right or wrong)"""
    hint = ("log(0) is -inf (and 0 * log(0) is nan): clamp p to [eps, 1 - eps] before taking logs, "
            "at both ends")
    for dtype in (F32, F64):
        p = torch.tensor([[0.0, 1.0, 0.0, 1.0, 0.5], [1.0, 0.0, 0.25, 1.0, 0.0]], dtype=dtype)
        y = torch.tensor([[1.0, 0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 1.0, 0.0, 1.0]], dtype=dtype)
        got = run(student, ref, "binary_cross_entropy", p, y, loss=True, hint=hint, nonfinite_hint=hint,
                  likely=bce_likely(p, y))
        check(bool(torch.isfinite(got).all()), f"binary_cross_entropy must be finite: {hint}")


@points(1, "binary_cross_entropy")
def test_binary_cross_entropy_uses_eps(student, ref):
    """binary_cross_entropy clamps p with the `eps` it is given"""
    hint = "clamp p to [eps, 1 - eps] with the `eps` argument, at both ends"
    p = torch.cat([torch.tensor([0.0, 1.0, 1e-4, 1 - 1e-4], dtype=F64), rand(9, dtype=F64, seed=435, low=0, high=1)])
    y = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0], dtype=F64)
    for eps in (1e-3, 0.2):
        run(student, ref, "binary_cross_entropy", p, y, eps=eps, loss=True, hint=hint, nonfinite_hint=hint,
            likely=bce_likely(p, y, eps))


# -- cross_entropy -------------------------------------------------------------------------------------------
def cross_entropy_likely(logits, targets):
    log_probs = log_softmax(logits)
    n = len(targets)
    picked = log_probs[torch.arange(n), targets]
    return {"this is the sum over the rows; cross-entropy is their mean": -picked.sum(),
            "the minus sign is missing: the loss must be positive": picked.mean(),
            "use each row's target column, not the column of its largest logit": -log_probs.max(dim=1).values.mean(),
            "`log_probs[:, targets]` takes every target for every row: index with (torch.arange(n), targets)":
                -log_probs[:, targets].mean(),
            "divide by the number of rows n, not by the number of elements n * C": -picked.sum() / logits.numel(),
            "take the row maximum (dim=1, keepdim=True) when shifting, not the column maximum":
                -(logits - logits.amax(dim=0, keepdim=True)
                  - torch.log(torch.exp(logits - logits.amax(dim=0, keepdim=True)).sum(dim=1, keepdim=True))
                  )[torch.arange(n), targets].mean()}


STABLE_HINT = ("exp overflows for large logits and log(softmax) is -inf when a probability underflows to 0: "
               "use log softmax(z)_k = (z_k - m) - log(sum_j exp(z_j - m)) with m each row's maximum")


@points(1, "cross_entropy")
def test_cross_entropy_float32(student, ref):
    """cross_entropy matches the mean of -log softmax(logits)[target] on float32 logits"""
    logits, targets = rand(7, 5, seed=441, scale=2), labels(7, 5, seed=442)
    run(student, ref, "cross_entropy", logits, targets, loss=True,
        hint="compute the mean over rows of -log softmax(logits)[row, target]",
        likely=cross_entropy_likely(logits, targets))


@points(1, "cross_entropy")
def test_cross_entropy_float64(student, ref):
    """cross_entropy keeps float64 and its precision"""
    logits, targets = rand(11, 3, dtype=F64, seed=443, scale=3), labels(11, 3, seed=444)
    run(student, ref, "cross_entropy", logits, targets, loss=True,
        hint="compute the mean over rows of -log softmax(logits)[row, target], in the input's dtype",
        likely=cross_entropy_likely(logits, targets))


@points(1, "cross_entropy")
def test_cross_entropy_stable(student, ref):
    """cross_entropy is finite for logits like 1e4 and rows like [1000, 1000]"""
    cases = ((torch.tensor([[1e4, -1e4], [0.0, 0.0], [-1e4, 1e4], [1000.0, 1000.0]]), torch.tensor([1, 0, 1, 0])),
             (torch.tensor([[-1e4, 1e4, 0.0], [0.0, 0.0, 0.0], [1e4, 1e4, -1e4]], dtype=F64), torch.tensor([2, 1, 0])))
    for logits, targets in cases:
        got = run(student, ref, "cross_entropy", logits, targets, loss=True, hint=STABLE_HINT,
                  nonfinite_hint=STABLE_HINT, likely=cross_entropy_likely(logits, targets))
        check(bool(torch.isfinite(got).all()), f"cross_entropy must be finite: {STABLE_HINT}")


@points(1, "cross_entropy")
def test_cross_entropy_square_and_shifted(student, ref):
    """cross_entropy on square logits, and adding a constant to a row leaves it unchanged"""
    logits, targets = rand(5, 5, dtype=F64, seed=445, scale=2), torch.tensor([3, 0, 3, 4, 3])
    hint = "compute the mean over rows of -log softmax(logits)[row, target]; sums over classes need keepdim=True"
    first = run(student, ref, "cross_entropy", logits, targets, loss=True, hint=hint,
                likely=cross_entropy_likely(logits, targets))
    shifted = logits + rand(5, 1, dtype=F64, seed=447, scale=30)
    second = run(student, ref, "cross_entropy", shifted, targets, loss=True, hint=hint,
                 likely=cross_entropy_likely(shifted, targets))
    check(within(second.reshape(1), first.reshape(1)),
          "adding the same constant to every logit of a row must not change cross_entropy")


# -- cross_entropy_derivative ---------------------------------------------------------------------------------
def cross_entropy_derivative_likely(logits, targets):
    n, classes = logits.shape
    probs = torch.exp(log_softmax(logits))
    hot = one_hot(targets, classes, logits.dtype)
    col = torch.exp(logits - logits.amax(dim=0, keepdim=True))
    col = col / col.sum(dim=0, keepdim=True)
    every = torch.zeros_like(logits)
    every[:, targets] = 1
    return {"divide by the number of rows n: the loss is a mean over rows": probs - hot,
            "divide by the number of rows n, not by the number of elements n * C": (probs - hot) / logits.numel(),
            "the sign is flipped: the derivative is (softmax(logits) - one_hot(targets)) / n": (hot - probs) / n,
            "one_hot must mark each row's target, not its largest logit":
                (probs - one_hot(logits.argmax(dim=1), classes, logits.dtype)) / n,
            "softmax goes along each row (dim=1), not down the columns": (col - hot) / n,
            "`one_hot[:, targets] = 1` marks every target in every row: index with (torch.arange(n), targets)":
                (probs - every) / n}


@points(1, "cross_entropy_derivative")
def test_cross_entropy_derivative_float32(student, ref):
    """cross_entropy_derivative matches (softmax(logits) - one_hot(targets)) / n on float32 logits"""
    logits, targets = rand(7, 5, seed=451, scale=2), labels(7, 5, seed=452)
    run(student, ref, "cross_entropy_derivative", logits, targets,
        hint="the derivative is (softmax(logits) - one_hot(targets)) / n, shape (n, C)",
        likely=cross_entropy_derivative_likely(logits, targets))


@points(1, "cross_entropy_derivative")
def test_cross_entropy_derivative_float64(student, ref):
    """cross_entropy_derivative keeps float64; each row sums to 0"""
    logits, targets = rand(11, 3, dtype=F64, seed=453, scale=3), labels(11, 3, seed=454)
    got = run(student, ref, "cross_entropy_derivative", logits, targets,
              hint="the derivative is (softmax(logits) - one_hot(targets)) / n, in the input's dtype",
              likely=cross_entropy_derivative_likely(logits, targets))
    check(within(got.sum(dim=1), torch.zeros(11, dtype=F64)),
          "each row of the derivative must sum to 0 (softmax sums to 1, one_hot too)")


@points(1, "cross_entropy_derivative")
def test_cross_entropy_derivative_is_the_slope(student, ref):
    """cross_entropy_derivative equals the numerical slope of cross_entropy (central differences, float64)"""
    logits, targets = rand(3, 7, dtype=F64, seed=455, scale=2), labels(3, 7, seed=456)
    got = student.cross_entropy_derivative(logits, targets)
    numeric = central_differences(lambda z: ref.cross_entropy(z, targets), logits)
    close(got, numeric, "cross_entropy_derivative",
          "it is not the slope of cross_entropy: nudging one logit by a tiny h changes the loss by about h times "
          "your value there; the derivative is (softmax(logits) - one_hot(targets)) / n",
          kind="estimate", likely=cross_entropy_derivative_likely(logits, targets))


@points(1, "cross_entropy_derivative")
def test_cross_entropy_derivative_stable(student, ref):
    """cross_entropy_derivative is finite for logits like 1e4"""
    hint = "exp overflows for large logits: use a stable softmax (subtract each row's max first)"
    for logits, targets in ((torch.tensor([[1e4, -1e4], [0.0, 0.0], [-1e4, 1e4], [1000.0, 1000.0]]),
                             torch.tensor([1, 0, 1, 0])),
                            (torch.tensor([[-1e4, 1e4, 0.0], [1e4, 1e4, -1e4]], dtype=F64), torch.tensor([2, 0]))):
        run(student, ref, "cross_entropy_derivative", logits, targets, hint=hint, nonfinite_hint=hint,
            likely=cross_entropy_derivative_likely(logits, targets))
