"""Hidden tests for assignment 06: minibatch SGD, from scratch.

The SYLLABUS fixes the recipe of ``train`` but not how ``minibatches`` draws
its permutation, so ``minibatches`` is checked by the properties it states
(every row once, x and y aligned, in order without a generator, determined by
and drawn from the generator), and ``train`` by replaying its recipe here:
the ready-made ``init_params`` and ``backward`` computed in the grader, the
submission's own ``minibatches`` and ``sgd_step`` called in its worker, from
the same seed. A result that equals the replay with the reference's helpers
instead is accepted too, so a bug in one function costs that function's
points only.
"""

import torch

from autograder.suites.checks import (Mistake, check, close, describe, fail, fixture, labels, number, pairs_like, points,
                               rand, unchanged, within)
from autograder.runner.session import StudentError
from autograder.support.backprop import backward as ready_backward
from autograder.support.mlp import init_params as ready_init_params
from autograder.worker.protocol import Items

F32, F64 = torch.float32, torch.float64


# -- helpers ---------------------------------------------------------------------------------------
def layers(shapes, dtype, seed):
    """Seeded [(W, b), ...] with the given W shapes."""
    return [(rand(d_in, d_out, dtype=dtype, seed=seed + 2 * i), rand(d_out, dtype=dtype, seed=seed + 2 * i + 1))
            for i, (d_in, d_out) in enumerate(shapes)]


def flat(params):
    """Every parameter in one vector, in the params' dtype (so that its tolerance applies)."""
    return torch.cat([t.reshape(-1).to(params[0][0].dtype) for pair in params for t in pair])


def params_shaped_like(got, expected, what):
    """``got`` must be a list of (W, b) tensor pairs with the shapes and dtypes of ``expected``."""
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
    return pairs


def check_params(got, expected, what, hint, likely=None, kind="value"):
    """``got`` must be a list of (W, b) pairs shaped like ``expected`` and equal to it; ``likely`` maps a
    message to the parameters a typical mistake gives."""
    pairs = params_shaped_like(got, expected, what)
    close(flat(pairs), flat(expected), what, hint, kind=kind, likely={m: flat(a) for m, a in (likely or {}).items()})


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


def seeded_state(seed):
    """The state of torch.Generator().manual_seed(seed), as data."""
    return torch.Generator().manual_seed(seed).get_state()


def run_minibatches(student, X, y, batch_size, state=None):
    """The student's batches, with X and y checked for in-place changes; with ``state`` (a generator state)
    the call gets a generator in that state, and the state it leaves it in comes back too."""
    kwargs = {} if state is None else {"generator": fixture("generator_from_state", state)}
    got, args_after, kwargs_after = student.call_returning_args("minibatches", X, y, batch_size, **kwargs)
    unchanged(X, args_after[0], "minibatches", "X")
    unchanged(y, args_after[1], "minibatches", "y")
    after = kwargs_after.get("generator")
    if state is not None and (type(after) is not torch.Tensor or after.dtype != torch.uint8):
        fail("minibatches replaced or removed the generator it was given: draw from it, do not rebind it")
    return batches_of(got, "minibatches"), after


def in_order(X, y, batch_size):
    """The batches of rows in order: what minibatches yields without a generator."""
    return [(X[s:s + batch_size], y[s:s + batch_size]) for s in range(0, len(X), batch_size)]


def check_sizes(got, n, batch_size):
    sizes = [len(yb) for _, yb in got]
    want = [len(yb) for _, yb in in_order(torch.zeros(n), torch.zeros(n), batch_size)]
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


def check_rows(got, X, y, what="minibatches"):
    """The batches hold every row exactly once, X and y rows aligned (``y`` numbers the rows: arange(n))."""
    Xs, ys = torch.cat([Xb for Xb, _ in got]), torch.cat([yb for _, yb in got])
    check(Xs.shape == (len(X), *X.shape[1:]) and ys.shape == y.shape and ys.dtype == y.dtype
          and Xs.dtype == X.dtype, f"{what} must yield X_batch with rows of X and y_batch with entries of y")
    check(torch.equal(ys.sort().values, y.sort().values),
          "with a generator, every row must still appear exactly once: shuffle with a permutation "
          "(for example torch.randperm), not by drawing indices with replacement")
    check(torch.equal(Xs, X[ys]),
          "X_batch and y_batch do not hold the same rows: index X and y with the same permutation")
    return ys


# -- replaying train ---------------------------------------------------------------------------------
class Unusable(Exception):
    """The submission's own helper cannot be used for the replay (it fails or returns malformed data)."""


def own_batches(student, X, y, batch_size, generator):
    """The submission's minibatches, drawing from (and advancing) ``generator``, or in order when None."""
    try:
        batches, state = run_minibatches(student, X, y, batch_size,
                                         None if generator is None else generator.get_state())
    except (Mistake, StudentError) as exc:
        raise Unusable from exc
    if generator is not None:
        try:
            generator.set_state(state)
        except (RuntimeError, TypeError) as exc:
            raise Unusable from exc
    return batches


def reference_batches(X, y, batch_size, generator):
    order = torch.arange(len(X)) if generator is None else torch.randperm(len(X), generator=generator)
    return [(X[rows], y[rows]) for rows in order.split(batch_size)]


def own_step(student, params, grads, lr):
    try:
        return params_shaped_like(student.sgd_step(params, grads, lr), params, "sgd_step")
    except (Mistake, StudentError) as exc:
        raise Unusable from exc


def reference_step(params, grads, lr):
    return [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(params, grads)]


def replay(student, X, y, sizes, lr, epochs, batch_size, seed, *, mine=(True, True), shuffle=True):
    """The recipe of train, step by step: returns (initial params, final params, batch losses per epoch as
    (loss, batch size) pairs). ``mine`` says whether the submission's own (minibatches, sgd_step) are used."""
    generator = torch.Generator().manual_seed(seed)
    params = ready_init_params(sizes, generator=generator)
    start = params
    by_epoch = []
    for _ in range(epochs):
        source = generator if shuffle else None
        batches = (own_batches(student, X, y, batch_size, source) if mine[0]
                   else reference_batches(X, y, batch_size, source))
        losses = []
        for X_batch, y_batch in batches:
            if len(y_batch) == 0:
                raise Unusable("an empty batch")
            loss, grads = ready_backward(X_batch, y_batch, params, activation="relu")
            params = own_step(student, params, grads, lr) if mine[1] else reference_step(params, grads, lr)
            losses.append((loss.item(), len(y_batch)))
        by_epoch.append(losses)
    return start, params, by_epoch


def replays(student, X, y, sizes, **args):
    """Every acceptable replay, lazily: the submission's own helpers first, then the reference's."""
    for mine in ((True, True), (True, False), (False, True), (False, False)):
        try:
            yield replay(student, X, y, sizes, **args, mine=mine)
        except Unusable:
            continue


def epoch_means(by_epoch):
    """The mean batch loss of each epoch, as float32 (the precision of the losses themselves)."""
    return torch.tensor([sum(v for v, _ in epoch) / len(epoch) for epoch in by_epoch], dtype=F32)


def train_result(got, epochs, sizes):
    """Unpack ``(params, losses)`` and check its structure; returns (params, losses as a float32 tensor)."""
    if type(got) not in (tuple, list) or len(got) != 2:
        fail(f"train returned {describe(got)}; expected a tuple (params, losses)")
    params, losses = got
    if type(losses) not in (list, tuple):
        fail(f"train returned losses as {describe(losses)}; expected a list with one float per epoch")
    if len(losses) != epochs:
        fail(f"train returned {len(losses)} losses for {epochs} epochs; expected one loss per epoch"
             + (" (is there one per batch?)" if len(losses) > epochs else ""))
    values = [number(value, "train: each epoch loss") for value in losses]
    expected_shapes = [((a, b_), (b_,)) for a, b_ in zip(sizes[:-1], sizes[1:])]
    pairs = pairs_like(params, expected_shapes, "train")
    for (W, b), (ws, bs) in zip(pairs, expected_shapes):
        if type(W) is not torch.Tensor or type(b) is not torch.Tensor or W.shape != ws or b.shape != bs:
            fail(f"train must return params shaped by layer_sizes {sizes}: W of shape (d_in, d_out), "
                 "b of shape (d_out,)")
        if W.dtype != F32 or b.dtype != F32:
            fail("train must return float32 params (init_params makes float32 parameters)")
    return pairs, torch.tensor(values, dtype=F32)


def check_train_losses(student, X, y, sizes, losses, hint, **args):
    """``losses`` must be the epoch means of the batch losses of an acceptable replay."""
    first = None
    for _, _, by_epoch in replays(student, X, y, sizes, **args):
        if within(losses, epoch_means(by_epoch), "steps"):
            return
        first = first or by_epoch
    if first is None:
        fail("train could not be replayed: minibatches or sgd_step fails here")
    as_tensor = lambda f: torch.tensor([f(epoch) for epoch in first], dtype=F32)  # noqa: E731
    close(losses, epoch_means(first), "train's losses", hint, kind="steps",
          nonfinite_hint=EMPTY_BATCH,
          likely={"this is the loss of the last batch of each epoch; return the mean over the epoch's batches":
                  as_tensor(lambda e: e[-1][0]),
                  "this is the loss of the first batch of each epoch; return the mean over the epoch's batches":
                  as_tensor(lambda e: e[0][0]),
                  "this is the sum of the batch losses; divide by the number of batches":
                  as_tensor(lambda e: sum(v for v, _ in e)),
                  "this weighs each batch by its size; the syllabus asks for the plain mean of the batch losses":
                  as_tensor(lambda e: sum(v * k for v, k in e) / sum(k for _, k in e))})


def check_train_params(student, X, y, sizes, params, hint, **args):
    """``params`` must be the final parameters of an acceptable replay."""
    first = None
    for start, final, _ in replays(student, X, y, sizes, **args):
        if within(flat(params), flat(final), "steps"):
            return
        first = first or (start, final)
    if first is None:
        fail("train could not be replayed: minibatches or sgd_step fails here")
    likely = {"the params never change: assign the result of sgd_step back (params = sgd_step(...))": first[0]}
    try:
        _, unshuffled, _ = replay(student, X, y, sizes, **args, shuffle=False)
        likely["the batches are not shuffled: pass the generator to minibatches"] = unshuffled
    except Unusable:
        pass
    check_params(params, first[1], "train", hint, kind="steps", likely=likely)


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
# Rows are picked, not computed: batches compare exactly.
@points(1, "minibatches")
def test_minibatches_in_order(student, ref):
    """without a generator, minibatches yields the rows in order, batch_size rows at a time"""
    X, y = rand(11, 3, seed=81), torch.arange(11) * 3
    got, _ = run_minibatches(student, X, y, 4)
    check_sizes(got, 11, 4)
    for (Xb, yb), (Xe, ye) in zip(got, in_order(X, y, 4)):
        close(yb, ye, "minibatches", "without a generator the rows must come in order, batch after batch",
              kind="exact")
        close(Xb, Xe, "minibatches", "X_batch must hold the same rows of X as y_batch holds of y", kind="exact")


@points(1, "minibatches")
def test_minibatches_last_batch(student, ref):
    """minibatches keeps the smaller last batch and yields no empty batch"""
    for n, batch_size in ((13, 5), (10, 5), (7, 2)):
        X, y = rand(n, 2, seed=90 + n), torch.arange(n)
        got, _ = run_minibatches(student, X, y, batch_size)
        check_sizes(got, n, batch_size)


@points(1, "minibatches")
def test_minibatches_large_batch(student, ref):
    """a batch_size of n or more gives one batch with every row"""
    X, y = rand(5, 3, dtype=F64, seed=101), torch.arange(5)
    for batch_size in (5, 8):
        got, _ = run_minibatches(student, X, y, batch_size)
        check_sizes(got, 5, batch_size)
        close(got[0][0], X, "minibatches", "a batch_size of n or more gives one batch with every row "
              "(in order without a generator, in the input's dtype)", kind="exact")


@points(1, "minibatches")
def test_minibatches_shuffled_by_generator(student, ref):
    """with a generator, the order is a shuffle determined by the generator: the same state gives the same
    batches, another seed another order"""
    X, y = rand(17, 3, seed=111), torch.arange(17)
    first, _ = run_minibatches(student, X, y, 5, seeded_state(3))
    check_sizes(first, 17, 5)
    order = check_rows(first, X, y)
    check(not torch.equal(order, y), "with a generator the rows must be shuffled: visit them in the order of a "
          "permutation drawn from the generator (for example torch.randperm(n, generator=generator))")
    again, _ = run_minibatches(student, X, y, 5, seeded_state(3))
    check(len(again) == len(first) and all(torch.equal(a, b) for pa, pb in zip(again, first)
                                           for a, b in zip(pa, pb)),
          "two generators in the same state gave different batches: draw the permutation from the generator "
          "you are given (generator=generator), not from the global random state")
    other, _ = run_minibatches(student, X, y, 5, seeded_state(4))
    check(not torch.equal(check_rows(other, X, y), order),
          "generators with other seeds gave the same order: draw the permutation from the generator you are "
          "given (generator=generator)")


@points(1, "minibatches")
def test_minibatches_shuffled_cover_every_row(student, ref):
    """with a generator, every row appears exactly once, X and y rows stay aligned, and the permutation is
    drawn from the generator (it advances)"""
    X, y = rand(23, 2, dtype=F64, seed=121), torch.arange(23)
    state = seeded_state(12)
    got, after = run_minibatches(student, X, y, 4, state)
    check_sizes(got, 23, 4)
    order = check_rows(got, X, y)
    check(not torch.equal(after, state),
          "the generator is in the same state after minibatches: draw the permutation from it "
          "(generator=generator), so that every epoch gets a new order")
    following, _ = run_minibatches(student, X, y, 4, after)
    check(not torch.equal(check_rows(following, X, y), order),
          "the generator gave the same order twice in a row: draw one permutation from it per call, so that "
          "every epoch gets a new order")


# -- train -----------------------------------------------------------------------------------------
TRAIN_X, TRAIN_Y = rand(23, 3, seed=131, scale=1.5), labels(23, 3, seed=132)
TRAIN_SIZES = [3, 5, 3]
EMPTY_BATCH = "is one of the batches empty? minibatches must not yield an empty batch"
RECIPE = ("use one generator, torch.Generator().manual_seed(seed), first for init_params and then for "
          "minibatches in every epoch; backward with ReLU on every batch; sgd_step with lr")


@points(1, "train")
def test_train_returns(student, ref):
    """train returns (params, losses): params shaped by layer_sizes, one float per epoch"""
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
    _, losses = train_result(student.train(TRAIN_X, TRAIN_Y, TRAIN_SIZES, **args), 4, TRAIN_SIZES)
    check_train_losses(student, TRAIN_X, TRAIN_Y, TRAIN_SIZES, losses,
                       "each entry is the mean of the batch losses of one epoch (backward on every batch, "
                       "shuffled with the generator made from seed)", **args)


@points(2, "train")
def test_train_follows_the_recipe(student, ref):
    """train's final params follow init_params, minibatches and sgd_step with the generator made from seed"""
    args = dict(lr=0.3, epochs=4, batch_size=8, seed=5)
    params, _ = train_result(student.train(TRAIN_X, TRAIN_Y, TRAIN_SIZES, **args), 4, TRAIN_SIZES)
    check_train_params(student, TRAIN_X, TRAIN_Y, TRAIN_SIZES, params, f"the trained params differ: {RECIPE}",
                       **args)


@points(1, "train")
def test_train_seed(student, ref):
    """train uses its seed and lr (other values, other results, as the recipe gives)"""
    X, y = rand(19, 2, seed=141), labels(19, 2, seed=142)
    for seed, lr in ((7, 0.1), (11, 0.8)):
        args = dict(lr=lr, epochs=3, batch_size=6, seed=seed)
        params, losses = train_result(student.train(X, y, [2, 3, 2], **args), 3, [2, 3, 2])
        check_train_params(student, X, y, [2, 3, 2], params, "the result differs from training with this seed "
                           "and lr: make the generator with torch.Generator().manual_seed(seed) and use lr in "
                           "sgd_step", **args)
        check_train_losses(student, X, y, [2, 3, 2], losses, "each entry is the mean of the batch losses of one "
                           "epoch", **args)


@points(1, "train")
def test_train_one_full_batch_epoch(student, ref):
    """one epoch with batch_size = n is one plain gradient step from the seeded init_params"""
    lr, seed, n = 0.7, 4, len(TRAIN_X)
    params, losses = train_result(student.train(TRAIN_X, TRAIN_Y, TRAIN_SIZES, lr=lr, epochs=1, batch_size=n,
                                                seed=seed), 1, TRAIN_SIZES)
    start = ready_init_params(TRAIN_SIZES, generator=torch.Generator().manual_seed(seed))
    loss, grads = ready_backward(TRAIN_X, TRAIN_Y, start, activation="relu")
    expected = reference_step(start, grads, lr)
    check_params(params, expected, "train",
                 "one epoch on one full batch must be one step P - lr * gradient from "
                 "init_params(layer_sizes, generator), with gradients from backward (ReLU)", kind="steps",
                 likely={"the step goes up the gradient: P - lr * grad": reference_step(start, grads, -lr),
                         "the params never change: assign the result of sgd_step back": start})
    close(losses, torch.tensor([loss.item()]), "train's loss",
          "with one full batch, the epoch loss is the loss of the initial params on all rows", kind="steps",
          nonfinite_hint=EMPTY_BATCH)
