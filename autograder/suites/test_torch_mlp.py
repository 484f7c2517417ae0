"""Hidden tests for assignment 07: the same model in PyTorch (Dataset, nn.Module, training loop)."""

import math

import torch
from torch import nn

from autograder.checks import check, close, describe, fail, fixture, labels, points, rand
from autograder.worker.protocol import Handle

MODULE = "torch_mlp"
F32, F64 = torch.float32, torch.float64


# -- helpers ---------------------------------------------------------------------------------------
def keep(session, fx, training):
    """Build the fixture ``fx`` (an nn.Module) in the session's process and return a handle on it, in
    training mode or not.

    The protocol has no "build and keep" request, so: ask for the bound method ``train``/``eval`` of the
    freshly built object (kept as a handle), then call it: it returns the module itself.
    """
    method = session.request("attr", target=fx, name="train" if training else "eval", keep=True)
    return session.call(method)


def probe(session, W, b, training):
    return keep(session, fixture("probe", W, b), training)


def loader(X, y, batch_size):
    return fixture("loader", X, y, batch_size)


def handle(value, what, kind="an nn.Module"):
    if type(value) is not Handle:
        fail(f"{what} returned {describe(value)}; expected {kind} (a subclass of it)")
    return value


def dataset(value, what):
    return handle(value, what, kind="a torch.utils.data.Dataset")


def read_dataset(session, ds, what="SpiralDataset"):
    """All items of a dataset, as (X (n, 2), y (n,)), checking each item's types."""
    n = session.length(ds)
    if type(n) is not int:
        fail(f"len() of a {what} returned {describe(n)}; expected an int")
    xs, ys = [], []
    for i in range(n):
        item = session.item(ds, i)
        if type(item) not in (tuple, list) or len(item) != 2:
            fail(f"{what}[i] returned {describe(item)}; expected a pair (x, label)")
        x, label = item
        if type(x) is not torch.Tensor or x.shape != (2,) or x.dtype != F32:
            fail(f"{what}[i] must give x as a float32 tensor of shape (2,); found {describe(x)}")
        if type(label) is not torch.Tensor or label.shape != () or label.dtype != torch.int64:
            fail(f"{what}[i] must give the label as a 0-d int64 tensor (torch.tensor(c) or an element of an "
                 f"int64 tensor); found {describe(label)}")
        xs.append(x)
        ys.append(label)
    if n == 0:
        return torch.zeros(0, 2), torch.zeros(0, dtype=torch.int64)
    return torch.stack(xs), torch.stack(ys)


def spiral(n_per_class, n_classes, noise, seed):
    """Interleaved spirals as the assignment describes them (the test's own copy, for fit)."""
    g = torch.Generator().manual_seed(seed)
    xs, ys = [], []
    for c in range(n_classes):
        r = torch.linspace(0.0, 1.0, n_per_class)
        t = 4 * r + 2 * math.pi * c / n_classes + noise * torch.randn(n_per_class, generator=g)
        xs.append(torch.stack([r * torch.sin(t), r * torch.cos(t)], dim=1))
        ys.append(torch.full((n_per_class,), c))
    return torch.cat(xs), torch.cat(ys)


def nearest_neighbour_accuracy(X, y):
    """Leave-one-out accuracy of the 1-nearest-neighbour rule: high when each class is a connected arm."""
    d = torch.cdist(X.to(F64), X.to(F64))
    d.fill_diagonal_(math.inf)
    return float((y[d.argmin(dim=1)] == y).to(F64).mean())


def linear_accuracy(X, y, classes):
    """Accuracy of a linear classifier (least squares on one-hot targets): high when straight lines
    separate the classes."""
    X = torch.cat([X.to(F64), torch.ones(len(X), 1, dtype=F64)], dim=1)
    W = torch.linalg.lstsq(X, nn.functional.one_hot(y, classes).to(F64)).solution
    return float(((X @ W).argmax(dim=1) == y).to(F64).mean())


def layer_names(sizes):
    return ", ".join(f"Linear({a}, {b})" for a, b in zip(sizes[:-1], sizes[1:]))


def linear_chain(state, sizes, what):
    """The (weight key, bias key) of each nn.Linear in ``state``, in the order of ``sizes``.

    Layers are matched by their shapes, so names like ``net.0.weight`` or ``layers.0.weight`` both work.
    """
    layers = {}
    for key, value in state.items():
        if key.endswith("weight") and type(value) is torch.Tensor and value.dim() == 2:
            layers[key] = tuple(value.shape)
    if not layers:
        fail(f"{what} has no registered nn.Linear layer (its parameters are empty): keep the layers in "
             "nn.Sequential or nn.ModuleList, or as attributes of the module; a plain Python list hides them "
             "from PyTorch")
    expected = layer_names(sizes)
    if len(layers) != len(sizes) - 1:
        fail(f"{what} has {len(layers)} weight matrices; expected {len(sizes) - 1} nn.Linear layers: {expected}")
    chain = []
    for d_in, d_out in zip(sizes[:-1], sizes[1:]):
        match = [k for k, shape in layers.items() if shape == (d_out, d_in) and k not in chain]
        if not match:
            fail(f"{what} has no nn.Linear({d_in}, {d_out}) layer; expected the layers {expected} "
                 "(in_features, each of hidden_sizes, out_features)")
        chain.append(match[0])
    out = []
    for key in chain:
        bias = key[:-len("weight")] + "bias"
        if bias not in state:
            fail(f"{what}'s layers must have a bias (nn.Linear's default)")
        out.append((key, bias))
    return out


def load_reference_weights(student, ref, sizes):
    """A student MLP and a reference MLP of these sizes, with the reference's weights in both."""
    model = handle(student.MLP(sizes[0], sizes[1:-1], sizes[-1]), "MLP(...)")
    model_ref = ref.MLP(sizes[0], sizes[1:-1], sizes[-1])
    state = student.state_dict(model)
    state_ref = ref.state_dict(model_ref)
    mine, theirs = linear_chain(state, sizes, "your MLP"), linear_chain(state_ref, sizes, "reference")
    new_state = dict(state)
    for (w, b), (w_ref, b_ref) in zip(mine, theirs):
        new_state[w], new_state[b] = state_ref[w_ref], state_ref[b_ref]
    student.load_state_dict(model, new_state)
    weights = [(state_ref[w], state_ref[b]) for w, b in theirs]
    return model, model_ref, weights


def forward_by_hand(x, weights, activation=torch.relu, last=None):
    for i, (W, b) in enumerate(weights):
        x = x @ W.T + b
        if i < len(weights) - 1:
            x = activation(x)
    return x if last is None else last(x)


def mlp_likely(x, weights):
    return {"there must be no activation after the last layer (the logits can be negative)":
            forward_by_hand(x, weights, last=torch.relu),
            "forward must return the logits, without a softmax":
            forward_by_hand(x, weights, last=lambda z: torch.softmax(z, dim=1)),
            "apply ReLU between the layers": forward_by_hand(x, weights, activation=lambda z: z),
            "the activation between the layers is ReLU": forward_by_hand(x, weights, activation=torch.sigmoid)}


def check_structure(student, model, sizes):
    kinds = [kind for _, kind in student.modules(model)]
    linears = kinds.count("Linear")
    if linears == 0:
        fail("no nn.Linear layer is registered in your MLP: keep the layers in nn.Sequential or nn.ModuleList "
             "(a plain Python list hides them from PyTorch, so the optimizer never sees them)")
    others = sorted({k for k in kinds if k in ("Sigmoid", "Tanh", "Softmax", "LogSoftmax", "LeakyReLU", "GELU")})
    if others:
        fail(f"your MLP uses {', '.join(others)}; the layers must be separated by ReLU, with nothing after the last")
    state = student.state_dict(model)
    linear_chain(state, sizes, "your MLP")
    count = sum(v.numel() for v in state.values() if type(v) is torch.Tensor)
    expected = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    check(count == expected, f"your MLP has {count} parameters; {layer_names(sizes)} have {expected}")


def float_result(value, what):
    if type(value) is not float:
        fail(f"{what} returned {describe(value)}; expected a Python float (use .item() on a 0-d tensor)")
    return value


# shared data for the training loop tests: 11 samples, batches of 4, 4 and 3
X5, Y5 = rand(11, 5, seed=201), labels(11, 3, seed=202)
W5, B5 = rand(3, 5, seed=203, scale=0.5), rand(3, seed=204, scale=0.1)


def sgd_by_hand(W, b, X, y, batch_size, lr, zero_grad=True):
    """A linear model trained for one epoch with SGD: final (W, b) and each batch's (loss, size)."""
    model = nn.Linear(W.shape[1], W.shape[0])
    with torch.no_grad():
        model.weight.copy_(W)
        model.bias.copy_(b)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for s in range(0, len(X), batch_size):
        if zero_grad:
            optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(X[s:s + batch_size]), y[s:s + batch_size])
        loss.backward()
        optimizer.step()
        losses.append((loss.item(), len(y[s:s + batch_size])))
    return model.weight.detach(), model.bias.detach(), losses


def adam_by_hand(W, b, X, y, batch_size, epochs, lr, optimizer="adam", fresh_each_epoch=False,
                 loss_fn=nn.functional.cross_entropy):
    """A linear model fitted like ``fit`` (or like a typical mistake): final (W, b) and epoch losses."""
    model = nn.Linear(W.shape[1], W.shape[0])
    with torch.no_grad():
        model.weight.copy_(W)
        model.bias.copy_(b)
    make = {"adam": lambda: torch.optim.Adam(model.parameters(), lr=lr),
            "sgd": lambda: torch.optim.SGD(model.parameters(), lr=lr)}[optimizer]
    opt, losses = make(), []
    for _ in range(epochs):
        if fresh_each_epoch:
            opt = make()
        batch_losses = []
        for s in range(0, len(X), batch_size):
            opt.zero_grad()
            loss = loss_fn(model(X[s:s + batch_size]), y[s:s + batch_size])
            loss.backward()
            opt.step()
            batch_losses.append(loss.item())
        losses.append(sum(batch_losses) / len(batch_losses))
    return model.weight.detach(), model.bias.detach(), torch.tensor(losses, dtype=F64)


def weights_of(session, model):
    state = session.state_dict(model)
    return state["linear.weight"], state["linear.bias"]


# -- SpiralDataset ---------------------------------------------------------------------------------
@points(1, "SpiralDataset")
def test_SpiralDataset_length(student, ref):
    """len(SpiralDataset(...)) is n_per_class * n_classes, for the defaults too"""
    for args, kwargs, n in (((7, 5), {}, 35), ((), {"n_per_class": 4, "n_classes": 2}, 8), ((), {}, 300)):
        ds = dataset(student.SpiralDataset(*args, **kwargs), "SpiralDataset(...)")
        got = student.length(ds)
        check(got == n, f"len(SpiralDataset(...)) returned {got!r}; expected n_per_class * n_classes = {n}"
              + (" (the defaults are n_per_class=100, n_classes=3)" if not args and not kwargs else ""))


@points(1, "SpiralDataset")
def test_SpiralDataset_items(student, ref):
    """items are (float32 (2,), int64 ()) and each class 0..C-1 has n_per_class points"""
    for n_per_class, n_classes in ((7, 5), (4, 2)):
        ds = dataset(student.SpiralDataset(n_per_class, n_classes, seed=3), "SpiralDataset(...)")
        X, y = read_dataset(student, ds)
        check(len(y) == n_per_class * n_classes, "len(ds) must be n_per_class * n_classes")
        check(bool(((y >= 0) & (y < n_classes)).all()), "labels must be class indices 0 .. n_classes - 1")
        counts = torch.bincount(y, minlength=n_classes).tolist()
        check(counts == [n_per_class] * n_classes,
              f"SpiralDataset(n_per_class={n_per_class}, n_classes={n_classes}) must hold n_per_class points of "
              f"each class; found {counts} points per class")
        check(bool(torch.isfinite(X).all()), "every point must be finite")


@points(1, "SpiralDataset")
def test_SpiralDataset_seeded(student, ref):
    """the same arguments give the same data; another seed or noise gives other data"""
    def data(**kwargs):
        return read_dataset(student, dataset(student.SpiralDataset(n_per_class=20, **kwargs), "SpiralDataset(...)"))
    Xa, ya = data(seed=5)
    Xb, yb = data(seed=5)
    check(torch.equal(Xa, Xb) and torch.equal(ya, yb),
          "two datasets made with the same arguments differ: draw the noise from "
          "torch.Generator().manual_seed(seed), not from the global random state")
    Xc, _ = data(seed=6)
    check(not torch.equal(Xa, Xc), "another seed gives the same points: draw the noise from "
          "torch.Generator().manual_seed(seed), with the seed given")
    Xd, _ = data(seed=5, noise=0.5)
    check(not torch.equal(Xa, Xd), "another noise level gives the same points: scale the random noise by `noise`")


@points(1, "SpiralDataset")
def test_SpiralDataset_scale(student, ref):
    """the points spread from the centre to a radius of about 1"""
    X, _ = read_dataset(student, dataset(student.SpiralDataset(seed=2), "SpiralDataset()"))
    radius = X.to(F64).norm(dim=1)
    check(float(radius.max()) <= 4.0,
          "some points lie far from the origin (farther than 4): the spirals' radius should grow from 0 to 1 "
          "(for example r = i / (n_per_class - 1)), so the inputs stay of order 1")
    check(float(radius.max()) >= 0.5 and float(radius.std()) > 0.1,
          "the points do not spread out: the radius should grow along each arm, from 0 to 1")


@points(1, "SpiralDataset")
def test_SpiralDataset_interleaved_arms(student, ref):
    """each class is one spiral arm, and no straight lines separate the classes"""
    X, y = read_dataset(student, dataset(student.SpiralDataset(n_per_class=50, noise=0.0, seed=1),
                                        "SpiralDataset(noise=0.0)"))
    check(nearest_neighbour_accuracy(X, y) >= 0.8,
          "without noise, the points of one class should form one arm (each point next to points of its own "
          "class): does every class get its own angle offset, 2 pi c / n_classes, and does the radius grow "
          "from 0 to 1 along the arm?")
    X, y = read_dataset(student, dataset(student.SpiralDataset(seed=4), "SpiralDataset()"))
    check(linear_accuracy(X, y, 3) <= 0.8,
          "a linear classifier separates these classes: the arms must wind around the centre (the angle grows "
          "with the radius) so that they interleave")


# -- MLP -------------------------------------------------------------------------------------------
@points(1, "MLP")
def test_MLP_layers(student, ref):
    """MLP(3, [7, 5], 2) holds Linear(3, 7), Linear(7, 5), Linear(5, 2): 80 parameters"""
    model = handle(student.MLP(3, [7, 5], 2), "MLP(3, [7, 5], 2)")
    check_structure(student, model, [3, 7, 5, 2])


@points(1, "MLP")
def test_MLP_forward(student, ref):
    """with the same weights, MLP's forward gives the reference's logits"""
    sizes = [3, 7, 5, 2]
    model, model_ref, weights = load_reference_weights(student, ref, sizes)
    x = rand(11, 3, seed=211, scale=2)
    got = student.call(model, x)
    close(got, ref.call(model_ref, x), "MLP's forward",
          "apply the Linear layers in order with ReLU between them and nothing after the last",
          likely=mlp_likely(x, weights))


@points(1, "MLP")
def test_MLP_no_hidden_layer(student, ref):
    """MLP(3, [], 2) is a single Linear(3, 2) layer, with no activation"""
    sizes = [3, 2]
    model, model_ref, weights = load_reference_weights(student, ref, sizes)
    check_structure(student, model, sizes)
    x = rand(7, 3, seed=221, scale=2)
    close(student.call(model, x), forward_by_hand(x, weights), "MLP(3, [], 2)'s forward",
          "with no hidden sizes, the model is Linear(in_features, out_features) alone",
          likely=mlp_likely(x, weights))


@points(1, "MLP")
def test_MLP_three_hidden_layers(student, ref):
    """MLP(4, [7, 5, 3], 2) has four Linear layers and matches the reference's logits"""
    sizes = [4, 7, 5, 3, 2]
    model, model_ref, weights = load_reference_weights(student, ref, sizes)
    check_structure(student, model, sizes)
    x = rand(13, 4, seed=231, scale=2)
    close(student.call(model, x), ref.call(model_ref, x), "MLP's forward",
          "build one Linear layer per consecutive pair of [in_features, *hidden_sizes, out_features], "
          "with ReLU between them", likely=mlp_likely(x, weights))


# -- train_epoch -----------------------------------------------------------------------------------
@points(1, "train_epoch")
def test_train_epoch_training_mode(student, ref):
    """train_epoch puts the model in training mode and runs one forward pass per batch"""
    model = probe(student, W5, B5, training=False)
    student.train_epoch(model, loader(X5, Y5, 4), fixture("cross_entropy_loss"), fixture("sgd", model, 0.1))
    seen = student.attr(model, "seen_training")
    sizes = student.attr(model, "seen_batch_sizes")
    check(sizes == [4, 4, 3], f"train_epoch ran the model on batches of sizes {sizes}; expected one forward pass "
          "per batch of the loader")
    check(all(seen), "the model was in evaluation mode during train_epoch: call model.train() first "
          "(dropout and batch norm behave differently in the two modes)")


@points(1, "train_epoch")
def test_train_epoch_updates(student, ref):
    """after an epoch of SGD over three batches, the weights match the reference's"""
    model, model_ref = probe(student, W5, B5, training=True), probe(ref, W5, B5, training=True)
    for session, m in ((student, model), (ref, model_ref)):
        session.train_epoch(m, loader(X5, Y5, 4), fixture("cross_entropy_loss"), fixture("sgd", m, 0.5))
    (W, b), (W_ref, b_ref) = weights_of(student, model), weights_of(ref, model_ref)
    W_acc, b_acc, _ = sgd_by_hand(W5, B5, X5, Y5, 4, 0.5, zero_grad=False)
    hint = "for every batch: optimizer.zero_grad(), forward, loss, loss.backward(), optimizer.step()"
    likely = {"the gradients add up from batch to batch: call optimizer.zero_grad() for every batch": W_acc,
              "the weights did not change: for every batch call optimizer.zero_grad() before loss.backward(), "
              "then optimizer.step()": W5}
    close(W, W_ref, "the weights after train_epoch", hint, likely=likely)
    close(b, b_ref, "the bias after train_epoch", hint, likely={
        "the gradients add up from batch to batch: call optimizer.zero_grad() for every batch": b_acc})


@points(1, "train_epoch")
def test_train_epoch_mean_loss(student, ref):
    """train_epoch returns the mean of the batch losses as a Python float"""
    model, model_ref = probe(student, W5, B5, training=True), probe(ref, W5, B5, training=True)
    value = float_result(student.train_epoch(model, loader(X5, Y5, 4), fixture("cross_entropy_loss"),
                                             fixture("sgd", model, 0.3)), "train_epoch")
    expected = ref.train_epoch(model_ref, loader(X5, Y5, 4), fixture("cross_entropy_loss"),
                               fixture("sgd", model_ref, 0.3))
    _, _, batches = sgd_by_hand(W5, B5, X5, Y5, 4, 0.3)
    as_tensor = lambda v: torch.tensor([v], dtype=F64)  # noqa: E731
    close(as_tensor(value), as_tensor(expected), "train_epoch's result",
          "return the mean of the batch losses: their sum (as floats, with loss.item()) divided by the number "
          "of batches", rtol=1e-5, atol=1e-6,
          likely={"this is the loss of the last batch; return the mean over all batches":
                  as_tensor(batches[-1][0]),
                  "this is the loss of the first batch; return the mean over all batches": as_tensor(batches[0][0]),
                  "this is the sum of the batch losses; divide by the number of batches":
                  as_tensor(sum(v for v, _ in batches)),
                  "this weighs each batch by its size; return the plain mean of the batch losses":
                  as_tensor(sum(v * k for v, k in batches) / sum(k for _, k in batches))})


@points(2, "train_epoch")
def test_train_epoch_one_step(student, ref):
    """with SGD at lr = 1 on one full batch, the update equals minus the gradient"""
    X, y = rand(13, 5, seed=241), labels(13, 3, seed=242)
    model = probe(student, W5, B5, training=True)
    value = float_result(student.train_epoch(model, loader(X, y, 13), fixture("cross_entropy_loss"),
                                             fixture("sgd", model, 1.0)), "train_epoch")
    W, b = weights_of(student, model)
    W0, b0 = W5.clone().requires_grad_(), B5.clone().requires_grad_()
    loss = nn.functional.cross_entropy(X @ W0.T + b0, y)
    gW, gb = torch.autograd.grad(loss, [W0, b0])
    hint = "one batch with SGD(lr=1) must move the weights by minus the gradient: zero_grad, forward, loss, " \
           "backward, step (in that order)"
    likely = {"the weights did not change: call loss.backward() before optimizer.step()": W5,
              "the weights moved up the gradient: minimise the loss itself, not its negative": W5 + gW}
    close(W, W5 - gW, "the weights after train_epoch", hint, likely=likely)
    close(b, B5 - gb, "the bias after train_epoch", hint, likely={
        "the bias did not change: call loss.backward() before optimizer.step()": B5})
    close(torch.tensor([value], dtype=F64), torch.tensor([loss.item()], dtype=F64), "train_epoch's result",
          "with one batch, the result is the loss of that batch before the step", rtol=1e-5, atol=1e-6)


# -- evaluate --------------------------------------------------------------------------------------
def evaluation_data():
    """11 samples (batches of 4, 4, 3) that the probe W5, B5 classifies right 4/4, 1/4 and 1/3 of."""
    X = rand(11, 5, seed=251)
    predicted = (X @ W5.T + B5).argmax(dim=1)
    y = predicted.clone()
    for i in (5, 6, 7, 9, 10):
        y[i] = (predicted[i] + 1) % 3
    return X, y


@points(1, "evaluate")
def test_evaluate_eval_mode(student, ref):
    """evaluate puts the model in evaluation mode"""
    X, y = evaluation_data()
    model = probe(student, W5, B5, training=True)
    student.evaluate(model, loader(X, y, 4))
    seen = student.attr(model, "seen_training")
    check(len(seen) > 0, "evaluate never ran the model on the loader's batches")
    check(not any(seen), "the model was in training mode during evaluate: call model.eval() first")


@points(1, "evaluate")
def test_evaluate_no_grad(student, ref):
    """evaluate runs the model without tracking gradients"""
    X, y = evaluation_data()
    model = probe(student, W5, B5, training=True)
    student.evaluate(model, loader(X, y, 4))
    seen = student.attr(model, "seen_grad_enabled")
    check(len(seen) > 0, "evaluate never ran the model on the loader's batches")
    check(not any(seen), "gradients were tracked during evaluate: run the model inside `with torch.no_grad():`")


@points(1, "evaluate")
def test_evaluate_fraction_of_samples(student, ref):
    """evaluate counts correct samples over all batches (uneven last batch) and divides by the sample count"""
    X, y = evaluation_data()
    got = float_result(student.evaluate(probe(student, W5, B5, training=True), loader(X, y, 4)), "evaluate")
    expected = ref.evaluate(probe(ref, W5, B5, training=True), loader(X, y, 4))
    check(abs(expected - 6 / 11) < 1e-12, "internal check: the reference's accuracy")
    if abs(got - expected) < 1e-9:
        return
    if abs(got - (1 + 1 / 4 + 1 / 3) / 3) < 1e-6:
        fail("evaluate averaged the accuracy of each batch; with a smaller last batch that is not the fraction "
             "of samples: count the correct samples and divide by the number of samples")
    if abs(got - 6) < 1e-6 or abs(got - 6 / 3) < 1e-6:
        fail("evaluate must divide the number of correct samples by the number of samples (not of batches)")
    fail("evaluate must return the fraction of all samples whose logits' argmax (along dim=1) equals the label")


@points(1, "evaluate")
def test_evaluate_perfect_and_hopeless(student, ref):
    """evaluate returns the float 1.0 for a model that is always right and 0.0 for one always wrong"""
    X = rand(13, 5, seed=261)
    predicted = (X @ W5.T + B5).argmax(dim=1)
    for y, expected in ((predicted, 1.0), ((predicted + 1) % 3, 0.0)):
        got = float_result(student.evaluate(probe(student, W5, B5, training=False), loader(X, y, 5)), "evaluate")
        check(got == expected, f"a model that is {'always right' if expected else 'never right'} must score "
              f"{expected}: evaluate returns the fraction of samples classified correctly, a float in [0, 1]")


# -- fit -------------------------------------------------------------------------------------------
@points(1, "fit")
def test_fit_matches_reference(student, ref):
    """from the same initial weights, fit gives the reference's epoch losses and weights (Adam, cross-entropy)"""
    model, model_ref = probe(student, W5, B5, training=True), probe(ref, W5, B5, training=True)
    got = student.fit(model, loader(X5, Y5, 4), epochs=3, lr=0.05)
    expected = ref.fit(model_ref, loader(X5, Y5, 4), epochs=3, lr=0.05)
    check(type(got) in (list, tuple) and len(got) == 3 and all(type(v) is float for v in got),
          f"fit returned {describe(got)}; expected a list of 3 floats, one per epoch")
    variants = {
        "this looks like plain SGD: fit uses torch.optim.Adam(model.parameters(), lr=lr)":
            adam_by_hand(W5, B5, X5, Y5, 4, 3, 0.05, optimizer="sgd"),
        "this looks like Adam with its default learning rate: pass lr=lr to torch.optim.Adam":
            adam_by_hand(W5, B5, X5, Y5, 4, 3, 1e-3),
        "a new optimizer is made every epoch: make one Adam before the loop over epochs (its running "
        "averages must carry over)":
            adam_by_hand(W5, B5, X5, Y5, 4, 3, 0.05, fresh_each_epoch=True),
        "this looks like nn.NLLLoss on the logits: use nn.CrossEntropyLoss (it applies log_softmax itself)":
            adam_by_hand(W5, B5, X5, Y5, 4, 3, 0.05, loss_fn=nn.functional.nll_loss)}
    hint = "make one torch.optim.Adam(model.parameters(), lr=lr) and one nn.CrossEntropyLoss(), then call " \
           "train_epoch once per epoch (fit's results also depend on your train_epoch)"
    W, _ = weights_of(student, model)
    W_ref, _ = weights_of(ref, model_ref)
    close(torch.tensor(got, dtype=F64), torch.tensor(expected, dtype=F64), "fit's epoch losses", hint,
          rtol=1e-4, atol=1e-6, likely={m: v[2] for m, v in variants.items()})
    close(W, W_ref, "the weights after fit", hint, rtol=1e-4, atol=1e-6, likely={m: v[0] for m, v in variants.items()})


@points(1, "fit")
def test_fit_returns_epoch_losses(student, ref):
    """fit returns a list with one Python float per epoch"""
    for epochs in (4, 1):
        got = student.fit(probe(student, W5, B5, training=True), loader(X5, Y5, 4), epochs=epochs, lr=0.01)
        if type(got) not in (list, tuple):
            fail(f"fit returned {describe(got)}; expected a list with one loss per epoch")
        check(len(got) == epochs, f"fit returned {len(got)} losses for {epochs} epochs; expected one per epoch")
        for v in got:
            check(type(v) is float, f"each epoch loss must be a Python float (what train_epoch returns); "
                  f"found {describe(v)}")


@points(1, "fit")
def test_fit_defaults(student, ref):
    """fit's defaults are 100 epochs and lr = 0.01"""
    model, model_ref = probe(student, W5, B5, training=True), probe(ref, W5, B5, training=True)
    got = student.fit(model, loader(X5, Y5, 11))
    expected = ref.fit(model_ref, loader(X5, Y5, 11))
    check(type(got) in (list, tuple) and len(got) == 100,
          f"fit(model, loader) returned {describe(got)}; expected 100 epoch losses (epochs=100 by default)")
    W, _ = weights_of(student, model)
    W_ref, _ = weights_of(ref, model_ref)
    close(W, W_ref, "the weights after fit(model, loader)",
          "by default fit trains for 100 epochs with Adam at lr=0.01", rtol=1e-4, atol=1e-5)


@points(2, "fit")
def test_fit_learns_spirals(student, ref):
    """fit trains MLP(2, [64, 64], 3) on spirals to at least 95% accuracy on new spiral data"""
    X, y = spiral(100, 3, 0.2, seed=0)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(123))
    X_test, y_test = spiral(100, 3, 0.2, seed=1)
    model = handle(student.MLP(2, [64, 64], 3), "MLP(2, [64, 64], 3)")
    student.fit(model, loader(X[order], y[order], 32), timeout=60)
    logits = student.call(model, X_test)
    if type(logits) is not torch.Tensor or logits.shape != (300, 3):
        fail(f"after fit, your MLP(2, [64, 64], 3) returned {describe(logits)} for 300 points; expected "
             "logits of shape (300, 3)")
    accuracy = float((logits.argmax(dim=1) == y_test).to(F64).mean())
    check(accuracy >= 0.95, f"after fit(MLP(2, [64, 64], 3), loader) the accuracy on new spiral data is "
          f"{accuracy:.0%}; it should reach 95%: fit uses Adam with lr and nn.CrossEntropyLoss for `epochs` "
          "epochs of train_epoch (this test also relies on your MLP)")
