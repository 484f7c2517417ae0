"""Hidden tests for assignment 06: minibatch SGD, from scratch."""

import torch

from autograder.checks import (check, close, describe, fail, fixture, labels, pairs_like, points, rand, tolerance,
                               unchanged)
from autograder.support.backprop import backward as ready_backward
from autograder.support.mlp import init_params as ready_init_params
from autograder.worker.protocol import Items

MODULE = "training"
F32, F64 = torch.float32, torch.float64
TRAIN_RTOL, TRAIN_ATOL = 1e-4, 1e-5  # several epochs of float32 arithmetic, possibly in another order


# -- helpers ---------------------------------------------------------------------------------------
def layers(shapes, dtype, seed):
    """Seeded [(W, b), ...] with the given W shapes."""
    return [(rand(d_in, d_out, dtype=dtype, seed=seed + 2 * i), rand(d_out, dtype=dtype, seed=seed + 2 * i + 1))
            for i, (d_in, d_out) in enumerate(shapes)]


def check_params(got, expected, what, hint, likely=None, rtol=None, atol=None):
    """``got`` must be a list of (W, b) pairs shaped like ``expected`` and equal to it; ``likely`` maps a
    message to the parameters a typical mistake gives."""
    pairs = pairs_like(got, expected, what)
    for pair, (W, b) in zip(pairs, expected):
        for g, e in zip(pair, (W, b)):
            if type(g) is not torch.Tensor:
                fail(f"{what} returned {describe(g)} inside a (W, b) pair; expected tensors")
            if g.shape != e.shape:
                fail(f"{what} returned a parameter of shape {tuple(g.shape)} where {tuple(e.shape)} was expected")
            if g.dtype != e.dtype:
                exp, got_d = (str(d).removeprefix("torch.") for d in (e.dtype, g.dtype))
                fail(f"{what} returned {got_d} parameters for {exp} input; expected {exp}: keep the dtype")
    flat_got = torch.cat([t.reshape(-1).to(F64) for pair in pairs for t in pair])
    flat_exp = torch.cat([t.reshape(-1).to(F64) for pair in expected for t in pair])
    alts = {m: torch.cat([t.reshape(-1).to(F64) for pair in a for t in pair]) for m, a in (likely or {}).items()}
    dtype = expected[0][0].dtype
    rtol_d, atol_d = tolerance(dtype)
    close(flat_got, flat_exp, what, hint, likely=alts, rtol=rtol or rtol_d, atol=atol or atol_d)


def sgd_likely(params, grads, lr):
    """What typical wrong updates return."""
    def step(f):
        return [(f(W, gW), f(b, gb)) for (W, b), (gW, gb) in zip(params, grads)]
    return {"the sign is wrong: step against the gradient, P - lr * grad": step(lambda p, g: p + lr * g),
            "the learning rate is missing: P - lr * grad": step(lambda p, g: p - g),
            "the learning rate is ignored: P - lr * grad, with the lr given": step(lambda p, g: p - 0.1 * g),
            "the biases are not updated: b - lr * grad_b as well":
            [(W - lr * gW, b) for (W, b), (gW, gb) in zip(params, grads)]}


def batches_of(value, what):
    """The (X_batch, y_batch) pairs that ``minibatches`` produced (a generator, or a list)."""
    if type(value) is Items:
        if not value.complete:
            fail(f"{what} yielded more than 10000 batches: does the loop ever stop?")
        items = value.items
    elif type(value) in (list, tuple):
        items = list(value)
    else:
        fail(f"{what} returned {describe(value)}; expected a generator that yields (X_batch, y_batch) pairs")
    for item in items:
        if type(item) not in (list, tuple) or len(item) != 2 or any(type(t) is not torch.Tensor for t in item):
            fail(f"{what} must yield (X_batch, y_batch) pairs of tensors; found {describe(item)}")
    return items


def batch_sizes(batches):
    return [len(yb) for _, yb in batches]


def run_minibatches(student, ref, X, y, batch_size, **kwargs):
    """Student's batches (arguments checked for in-place changes) and the reference's."""
    got, args_after, _ = student.call_returning_args("minibatches", X, y, batch_size, **kwargs)
    unchanged(X, args_after[0], "minibatches", "X")
    unchanged(y, args_after[1], "minibatches", "y")
    return batches_of(got, "minibatches"), batches_of(ref.minibatches(X, y, batch_size, **kwargs), "reference")


def check_sizes(got, expected, n, batch_size):
    sizes, want = batch_sizes(got), batch_sizes(expected)
    if sizes == want:
        return
    if sizes == want[:-1] or sum(sizes) == n - n % batch_size and n % batch_size:
        fail(f"minibatches dropped the last, smaller batch: with {n} rows and batch_size {batch_size} "
             "the last batch holds the remaining rows (loop over range(0, n, batch_size))")
    if sizes and sizes[-1] == 0:
        fail("minibatches yielded an empty batch at the end: stop once every row has been used "
             "(loop over range(0, n, batch_size))")
    if sum(sizes) != n:
        fail(f"minibatches yielded {sum(sizes)} rows in total for {n} rows: every row must appear exactly once")
    fail(f"minibatches yielded batches of sizes {sizes} for {n} rows and batch_size {batch_size}; expected "
         "full batches of batch_size rows, then one smaller batch with what is left")


def check_aligned(got, X, y):
    Xs, ys = torch.cat([Xb for Xb, _ in got]), torch.cat([yb for _, yb in got])
    check(Xs.shape == (len(X), *X.shape[1:]) and ys.shape == y.shape,
          "minibatches must yield X_batch with rows of X and y_batch with entries of y")
    check(torch.equal(ys.sort().values, y.sort().values),
          "with a generator, every row must still appear exactly once: shuffle with a permutation "
          "(torch.randperm), not by drawing indices with replacement")
    check(torch.equal(Xs, X[ys]),
          "X_batch and y_batch do not hold the same rows: index X and y with the same permutation")


def train_by_hand(X, y, sizes, lr, epochs, batch_size, seed, shuffle=True):
    """Parameters after each variant of the loop, and the loss of every batch of every epoch."""
    generator = torch.Generator().manual_seed(seed)
    params = ready_init_params(sizes, generator=generator)
    start = [(W.clone(), b.clone()) for W, b in params]
    epoch_losses = []
    n = len(X)
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        batch_losses = []
        for s in range(0, n, batch_size):
            rows = order[s:s + batch_size]
            loss, grads = ready_backward(X[rows], y[rows], params, activation="relu")
            params = [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(params, grads)]
            batch_losses.append((loss.item(), len(rows)))
        epoch_losses.append(batch_losses)
    return start, params, epoch_losses


def train_result(got, epochs, sizes):
    """Unpack ``(params, losses)`` and check its structure; returns (params, losses as float64 tensor)."""
    if type(got) not in (tuple, list) or len(got) != 2:
        fail(f"train returned {describe(got)}; expected a tuple (params, losses)")
    params, losses = got
    if type(losses) not in (list, tuple):
        fail(f"train returned losses as {describe(losses)}; expected a list with one float per epoch")
    if len(losses) != epochs:
        fail(f"train returned {len(losses)} losses for {epochs} epochs; expected one loss per epoch"
             + (" (is there one per batch?)" if len(losses) > epochs else ""))
    for value in losses:
        if type(value) is not float:
            fail(f"each epoch loss must be a Python float; found {describe(value)} "
                 "(use loss.item() to turn a 0-d tensor into a float)")
    expected_shapes = [((a, b_), (b_,)) for a, b_ in zip(sizes[:-1], sizes[1:])]
    pairs = pairs_like(params, expected_shapes, "train")
    for (W, b), (ws, bs) in zip(pairs, expected_shapes):
        if type(W) is not torch.Tensor or type(b) is not torch.Tensor or W.shape != ws or b.shape != bs:
            fail(f"train must return params shaped by layer_sizes {sizes}: W of shape (d_in, d_out), "
                 "b of shape (d_out,)")
    return pairs, torch.tensor(losses, dtype=F64)


# -- sgd_step --------------------------------------------------------------------------------------
@points(1, "sgd_step")
def test_sgd_step_float32(student, ref):
    """sgd_step returns [(W - lr*gW, b - lr*gb), ...] for a two-layer float32 network"""
    params, grads = layers([(7, 5), (5, 3)], F32, 1), layers([(7, 5), (5, 3)], F32, 11)
    lr = 0.3
    got = student.sgd_step(params, grads, lr)
    check_params(got, ref.sgd_step(params, grads, lr), "sgd_step", "each parameter becomes P - lr * gradient",
                 likely=sgd_likely(params, grads, lr))


@points(1, "sgd_step")
def test_sgd_step_float64(student, ref):
    """sgd_step keeps float64 and updates every layer of a three-layer network"""
    shapes = [(3, 7), (7, 5), (5, 2)]
    params, grads = layers(shapes, F64, 21), layers(shapes, F64, 31)
    got = student.sgd_step(params, grads, 0.05)
    check_params(got, ref.sgd_step(params, grads, 0.05), "sgd_step",
                 "every layer's W and b become P - lr * gradient, in the dtype of the parameters",
                 likely=sgd_likely(params, grads, 0.05))


@points(1, "sgd_step")
def test_sgd_step_keeps_arguments(student, ref):
    """sgd_step returns new tensors: params and grads are unchanged afterwards"""
    params, grads = layers([(5, 3), (3, 2)], F32, 41), layers([(5, 3), (3, 2)], F32, 51)
    got, args_after, _ = student.call_returning_args("sgd_step", params, grads, 0.5)
    unchanged(params, args_after[0], "sgd_step", "params")
    unchanged(grads, args_after[1], "sgd_step", "grads")
    check_params(got, ref.sgd_step(params, grads, 0.5), "sgd_step", "each parameter becomes P - lr * gradient",
                 likely=sgd_likely(params, grads, 0.5))


@points(1, "sgd_step")
def test_sgd_step_learning_rates(student, ref):
    """sgd_step uses the learning rate it is given (0 leaves the params as they are)"""
    params, grads = layers([(3, 5)], F64, 61), layers([(3, 5)], F64, 71)
    for lr in (0.0, 2.5):
        check_params(student.sgd_step(params, grads, lr), ref.sgd_step(params, grads, lr), "sgd_step",
                     "each parameter becomes P - lr * gradient, with the lr given",
                     likely=sgd_likely(params, grads, lr))


# -- minibatches -------------------------------------------------------------------------------------
@points(1, "minibatches")
def test_minibatches_in_order(student, ref):
    """without a generator, minibatches yields the rows in order, batch_size rows at a time"""
    X, y = rand(11, 3, seed=81), torch.arange(11) * 3
    got, expected = run_minibatches(student, ref, X, y, 4)
    check_sizes(got, expected, 11, 4)
    for (Xb, yb), (Xe, ye) in zip(got, expected):
        close(yb, ye, "minibatches", "without a generator the rows must come in order, batch after batch")
        close(Xb, Xe, "minibatches", "X_batch must hold the same rows of X as y_batch holds of y")


@points(1, "minibatches")
def test_minibatches_last_batch(student, ref):
    """minibatches keeps the smaller last batch and yields no empty batch"""
    for n, batch_size in ((13, 5), (10, 5), (7, 2)):
        X, y = rand(n, 2, seed=90 + n), torch.arange(n)
        got, expected = run_minibatches(student, ref, X, y, batch_size)
        check_sizes(got, expected, n, batch_size)


@points(1, "minibatches")
def test_minibatches_large_batch(student, ref):
    """a batch_size of n or more gives one batch with every row"""
    X, y = rand(5, 3, dtype=F64, seed=101), torch.arange(5)
    for batch_size in (5, 8):
        got, expected = run_minibatches(student, ref, X, y, batch_size)
        check_sizes(got, expected, 5, batch_size)
        close(got[0][0], expected[0][0], "minibatches", "a batch_size of n or more gives one batch with every row "
              "(in order without a generator, in the input's dtype)")


@points(1, "minibatches")
def test_minibatches_shuffled_permutation(student, ref):
    """with a generator, the rows come in the order of torch.randperm(n, generator=generator)"""
    X, y = rand(17, 3, seed=111), torch.arange(17)
    kw = {"generator": fixture("generator", 3)}
    got, expected = run_minibatches(student, ref, X, y, 5, **kw)
    check_sizes(got, expected, 17, 5)
    check(not torch.equal(torch.cat([Xb for Xb, _ in got]), X),
          "with a generator the rows must be shuffled: visit them in the order of "
          "torch.randperm(n, generator=generator)")
    check_aligned(got, X, y)
    for (Xb, yb), (Xe, ye) in zip(got, expected):
        if not (torch.equal(Xb, Xe) and torch.equal(yb, ye)):
            fail("minibatches shuffled the rows, but not in the order of torch.randperm(n, generator=generator): "
                 "draw exactly one permutation per call, from the generator given")


@points(1, "minibatches")
def test_minibatches_shuffled_cover_every_row(student, ref):
    """with a generator, every row appears exactly once and X and y rows stay aligned"""
    X, y = rand(23, 2, dtype=F64, seed=121), torch.arange(23)
    got, expected = run_minibatches(student, ref, X, y, 4, generator=fixture("generator", 12))
    check_sizes(got, expected, 23, 4)
    check_aligned(got, X, y)


# -- train -----------------------------------------------------------------------------------------
TRAIN_X, TRAIN_Y = rand(23, 3, seed=131, scale=1.5), labels(23, 3, seed=132)
TRAIN_SIZES = [3, 5, 3]
EMPTY_BATCH = "is one of the batches empty? minibatches must not yield an empty batch"


@points(1, "train")
def test_train_returns(student, ref):
    """train returns (params, losses): params shaped by layer_sizes, one Python float per epoch"""
    got, args_after, _ = student.call_returning_args("train", TRAIN_X, TRAIN_Y, TRAIN_SIZES, lr=0.2, epochs=3,
                                                     batch_size=8, seed=1)
    train_result(got, 3, TRAIN_SIZES)
    unchanged(TRAIN_X, args_after[0], "train", "X")
    unchanged(TRAIN_Y, args_after[1], "train", "y")
    got = student.train(TRAIN_X, TRAIN_Y, [3, 7, 5, 3], lr=0.1, epochs=1, batch_size=8, seed=1)
    train_result(got, 1, [3, 7, 5, 3])


@points(1, "train")
def test_train_losses(student, ref):
    """each epoch's loss is the mean of its batch losses"""
    args = dict(lr=0.3, epochs=4, batch_size=8, seed=5)
    got = student.train(TRAIN_X, TRAIN_Y, TRAIN_SIZES, **args)
    _, losses = train_result(got, 4, TRAIN_SIZES)
    _, expected = train_result(ref.train(TRAIN_X, TRAIN_Y, TRAIN_SIZES, **args), 4, TRAIN_SIZES)
    _, _, by_batch = train_by_hand(TRAIN_X, TRAIN_Y, TRAIN_SIZES, **args)
    as_tensor = lambda f: torch.tensor([f(epoch) for epoch in by_batch], dtype=F64)  # noqa: E731
    close(losses, expected, "train's losses",
          "each entry is the mean of the batch losses of one epoch (backward on every batch, shuffled with the "
          "generator made from seed)", rtol=TRAIN_RTOL, atol=TRAIN_ATOL, nonfinite_hint=EMPTY_BATCH,
          likely={"this is the loss of the last batch of each epoch; return the mean over the epoch's batches":
                  as_tensor(lambda e: e[-1][0]),
                  "this is the loss of the first batch of each epoch; return the mean over the epoch's batches":
                  as_tensor(lambda e: e[0][0]),
                  "this is the sum of the batch losses; divide by the number of batches":
                  as_tensor(lambda e: sum(v for v, _ in e)),
                  "this weighs each batch by its size; the syllabus asks for the plain mean of the batch losses":
                  as_tensor(lambda e: sum(v * k for v, k in e) / sum(k for _, k in e))})


@points(2, "train")
def test_train_matches_reference(student, ref):
    """train's final params follow init_params, minibatches and sgd_step with the generator made from seed"""
    args = dict(lr=0.3, epochs=4, batch_size=8, seed=5)
    params, _ = train_result(student.train(TRAIN_X, TRAIN_Y, TRAIN_SIZES, **args), 4, TRAIN_SIZES)
    expected, _ = train_result(ref.train(TRAIN_X, TRAIN_Y, TRAIN_SIZES, **args), 4, TRAIN_SIZES)
    start, _, _ = train_by_hand(TRAIN_X, TRAIN_Y, TRAIN_SIZES, **args)
    _, unshuffled, _ = train_by_hand(TRAIN_X, TRAIN_Y, TRAIN_SIZES, **args, shuffle=False)
    check_params(params, expected, "train",
                 "the trained params differ: use one generator, torch.Generator().manual_seed(seed), first for "
                 "init_params and then for minibatches in every epoch; backward with ReLU; sgd_step with lr",
                 rtol=TRAIN_RTOL, atol=TRAIN_ATOL,
                 likely={"the params never change: assign the result of sgd_step back (params = sgd_step(...))": start,
                         "the batches are not shuffled: pass the generator to minibatches": unshuffled})


@points(1, "train")
def test_train_seed(student, ref):
    """train uses its seed and lr (other values, other results, as in the reference)"""
    X, y = rand(19, 2, seed=141), labels(19, 2, seed=142)
    for seed, lr in ((7, 0.1), (11, 0.8)):
        args = dict(lr=lr, epochs=3, batch_size=6, seed=seed)
        params, losses = train_result(student.train(X, y, [2, 3, 2], **args), 3, [2, 3, 2])
        expected, expected_losses = train_result(ref.train(X, y, [2, 3, 2], **args), 3, [2, 3, 2])
        check_params(params, expected, "train", "the result differs from training with this seed and lr: make the "
                     "generator with torch.Generator().manual_seed(seed) and use lr in sgd_step",
                     rtol=TRAIN_RTOL, atol=TRAIN_ATOL)
        close(losses, expected_losses, "train's losses", "each entry is the mean of the batch losses of one epoch",
              rtol=TRAIN_RTOL, atol=TRAIN_ATOL, nonfinite_hint=EMPTY_BATCH)


@points(1, "train")
def test_train_one_full_batch_epoch(student, ref):
    """one epoch with batch_size = n is one plain gradient step from the seeded init_params"""
    lr, seed, n = 0.7, 4, len(TRAIN_X)
    params, losses = train_result(student.train(TRAIN_X, TRAIN_Y, TRAIN_SIZES, lr=lr, epochs=1, batch_size=n,
                                                seed=seed), 1, TRAIN_SIZES)
    start = ready_init_params(TRAIN_SIZES, generator=torch.Generator().manual_seed(seed))
    loss, grads = ready_backward(TRAIN_X, TRAIN_Y, start, activation="relu")
    expected = [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(start, grads)]
    check_params(params, expected, "train",
                 "one epoch on one full batch must be one step P - lr * gradient from "
                 "init_params(layer_sizes, generator), with gradients from backward (ReLU)",
                 rtol=TRAIN_RTOL, atol=TRAIN_ATOL,
                 likely={"the step goes up the gradient: P - lr * grad":
                         [(W + lr * gW, b + lr * gb) for (W, b), (gW, gb) in zip(start, grads)],
                         "the params never change: assign the result of sgd_step back": start})
    close(losses, torch.tensor([loss.item()], dtype=F64), "train's loss",
          "with one full batch, the epoch loss is the loss of the initial params on all rows",
          rtol=TRAIN_RTOL, atol=TRAIN_ATOL, nonfinite_hint=EMPTY_BATCH)
