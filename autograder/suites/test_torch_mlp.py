"""Hidden tests for assignment 07: the same model in PyTorch (Dataset, nn.Module, training loop)."""

import math

import torch
from torch import nn

from autograder.suites.checks import (check, close, describe, fail, fixture, labels, number, points, rand, same_number,
                               within)
from autograder.runner.session import StudentError
from autograder.worker import fixtures as worker_fixtures
from autograder.worker.protocol import Handle

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


def model(session, name, *args, training=True):
    """A handle on the fixture model ``name`` built in the session's process, in training mode or not."""
    return keep(session, fixture(name, *args), training)


def local_model(name, *args, training=True):
    """The same fixture model, built here in the grader (for the grader's own computation)."""
    built = worker_fixtures.build(name, args, {})
    built.train(training)
    return built


def loader(X, y, batch_size):
    return fixture("loader", X, y, batch_size)


def handle(value, what, kind="an nn.Module"):
    if type(value) is not Handle:
        fail(f"{what} returned {describe(value)}; expected {kind} (a subclass of it)")
    return value


def dataset(value, what):
    return handle(value, what, kind="a torch.utils.data.Dataset")


def dataset_items(session, ds, n, chunk=100):
    """ds[0], ..., ds[n - 1], read a chunk per round trip. A chunk in which ds[i] raises is read
    again item by item, so the items before it are checked first, as when reading one at a time."""
    for start in range(0, n, chunk):
        indices = list(range(start, min(start + chunk, n)))
        try:
            items = session.items(ds, indices)
        except StudentError:
            items = None
        if type(items) is not list or len(items) != len(indices):
            items = (session.item(ds, i) for i in indices)
        yield from items


def read_dataset(session, ds, what="SpiralDataset"):
    """All items of a dataset, as (X (n, 2), y (n,)), checking each item's types."""
    n = session.length(ds)
    if type(n) is not int:
        fail(f"len() of a {what} returned {describe(n)}; expected an int")
    xs, ys = [], []
    for item in dataset_items(session, ds, n):
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
    check(count == expected, f"your MLP has {count} parameters, not as many as the layers {layer_names(sizes)} have "
          "(weights and biases): no other parameters, no missing bias")


# shared data for the training loop tests: 11 samples, batches of 4, 4 and 3
X5, Y5 = rand(11, 5, seed=201), labels(11, 3, seed=202)
W5, B5 = rand(3, 5, seed=203, scale=0.5), rand(3, seed=204, scale=0.1)
LOSS = fixture("cross_entropy_loss")


def epoch_by_hand(net, X, y, batch_size, optimizer, training=True, zero_grad=True):
    """The grader's own train_epoch: (loss, batch size) of each batch; ``net`` is trained in place.
    ``training=False`` keeps it in evaluation mode (the mistake of forgetting model.train())."""
    net.train(training)
    losses = []
    for s in range(0, len(X), batch_size):
        if zero_grad:
            optimizer.zero_grad()
        loss = nn.functional.cross_entropy(net(X[s:s + batch_size]), y[s:s + batch_size])
        loss.backward()
        optimizer.step()
        losses.append((loss.item(), len(y[s:s + batch_size])))
    return losses


def sgd_epoch(name, args, X, y, batch_size, lr, training=True, **variant):
    """A fixture model trained here for one epoch with SGD: (its state afterwards, the batch losses)."""
    net = local_model(name, *args)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    losses = epoch_by_hand(net, X, y, batch_size, optimizer, training=training, **variant)
    return state_of(net), losses


def fit_by_hand(name, args, X, y, batch_size, epochs, lr, optimizer="adam", fresh_each_epoch=False,
                loss_fn=nn.functional.cross_entropy):
    """A fixture model fitted here like ``fit`` (or like a typical mistake): (state, epoch losses)."""
    net = local_model(name, *args)
    make = {"adam": lambda: torch.optim.Adam(net.parameters(), lr=lr),
            "sgd": lambda: torch.optim.SGD(net.parameters(), lr=lr)}[optimizer]
    opt, losses = make(), []
    for _ in range(epochs):
        if fresh_each_epoch:
            opt = make()
        batch_losses = []
        for s in range(0, len(X), batch_size):
            opt.zero_grad()
            loss = loss_fn(net(X[s:s + batch_size]), y[s:s + batch_size])
            loss.backward()
            opt.step()
            batch_losses.append(loss.item())
        losses.append(sum(batch_losses) / len(batch_losses))
    return state_of(net), torch.tensor(losses, dtype=F32)


def state_of(net):
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def flat_state(state):
    """Every entry of a state dict, in key order, as one float32 vector (counters such as batch norm's
    num_batches_tracked are small integers, exact in float32)."""
    return torch.cat([v.reshape(-1).to(F32) for _, v in sorted(state.items())])


def same_structure(got, expected):
    """Is ``got`` a state dict with the keys and shapes of ``expected``?"""
    return type(got) is dict and sorted(got) == sorted(expected) and \
        all(type(got[k]) is torch.Tensor and got[k].shape == v.shape for k, v in expected.items())


def check_state(got, expected, what, hint, likely=None):
    """The state dict of a fixture model (plain data from the worker) must equal the grader's own."""
    if not same_structure(got, expected):
        fail(f"{what}: the model's parameters changed shape or disappeared: train the model you are given")
    close(flat_state(got), flat_state(expected), what, hint, kind="steps",
          likely={m: flat_state(a) for m, a in (likely or {}).items()})


def losses_list(value, epochs, what):
    """fit's result: a list (or tuple) of one float per epoch, as a float32 tensor."""
    if type(value) not in (list, tuple):
        fail(f"{what} returned {describe(value)}; expected a list with one loss per epoch")
    if len(value) != epochs:
        fail(f"{what} returned {len(value)} losses for {epochs} epochs; expected one loss per epoch")
    return torch.tensor([number(v, f"{what}: each epoch loss") for v in value], dtype=F32)


def accuracy_of(net, X, y, batch_size=None):
    """The fraction of samples whose logits' argmax is the label; batch by batch when ``batch_size``."""
    with torch.no_grad():
        if batch_size is None:
            predicted = net(X).argmax(dim=1)
        else:
            predicted = torch.cat([net(X[s:s + batch_size]).argmax(dim=1) for s in range(0, len(X), batch_size)])
    return float((predicted == y).to(F64).mean())


# -- SpiralDataset ---------------------------------------------------------------------------------
@points(1, "SpiralDataset")
def test_SpiralDataset_length(student, ref):
    """len(SpiralDataset(...)) is n_per_class * n_classes, for the defaults too"""
    for args, kwargs, n in (((7, 5), {}, 35), ((), {"n_per_class": 4, "n_classes": 2}, 8), ((), {}, 300)):
        ds = dataset(student.SpiralDataset(*args, **kwargs), "SpiralDataset(...)")
        got = student.length(ds)
        check(got == n, f"len(SpiralDataset(...)) returned {got!r}; expected n_per_class * n_classes"
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
# Every verdict compares what the worker sends back as data (the model's state dict, the returned loss)
# with the grader's own epoch on the same fixture model, from the same starting state.
STEP_HINT = "for every batch: optimizer.zero_grad(), forward, loss, loss.backward(), optimizer.step()"


@points(1, "train_epoch")
def test_train_epoch_training_mode(student, ref):
    """train_epoch puts the model in training mode: a batch-norm model given in evaluation mode trains with
    batch statistics and updates its running statistics"""
    args = (W5, B5)
    net = model(student, "batch_norm_classifier", *args, training=False)
    number(student.train_epoch(net, loader(X5, Y5, 4), LOSS, fixture("sgd", net, 0.5)), "train_epoch")
    expected, _ = sgd_epoch("batch_norm_classifier", args, X5, Y5, 4, 0.5)
    stayed, _ = sgd_epoch("batch_norm_classifier", args, X5, Y5, 4, 0.5, training=False)
    check_state(student.state_dict(net), expected, "the model after train_epoch",
                "it differs from one epoch in training mode: call model.train() first, then " + STEP_HINT,
                likely={"the model stayed in evaluation mode: call model.train() first (dropout and batch norm "
                        "behave differently in the two modes)": stayed})


@points(1, "train_epoch")
def test_train_epoch_updates(student, ref):
    """after an epoch of SGD over three batches, the weights match the grader's own epoch"""
    args = (W5, B5)
    net = model(student, "linear", *args)
    student.train_epoch(net, loader(X5, Y5, 4), LOSS, fixture("sgd", net, 0.5))
    expected, _ = sgd_epoch("linear", args, X5, Y5, 4, 0.5)
    accumulated, _ = sgd_epoch("linear", args, X5, Y5, 4, 0.5, zero_grad=False)
    check_state(student.state_dict(net), expected, "the weights after train_epoch", STEP_HINT, likely={
        "the gradients add up from batch to batch: call optimizer.zero_grad() for every batch": accumulated,
        "the weights did not change: for every batch call optimizer.zero_grad() before loss.backward(), "
        "then optimizer.step()": state_of(local_model("linear", *args))})


@points(1, "train_epoch")
def test_train_epoch_mean_loss(student, ref):
    """train_epoch returns the mean of the batch losses as a float"""
    net = model(student, "linear", W5, B5)
    value = number(student.train_epoch(net, loader(X5, Y5, 4), LOSS, fixture("sgd", net, 0.3)), "train_epoch")
    _, batches = sgd_epoch("linear", (W5, B5), X5, Y5, 4, 0.3)
    as_tensor = lambda v: torch.tensor([v], dtype=F32)  # noqa: E731
    close(as_tensor(value), as_tensor(sum(v for v, _ in batches) / len(batches)), "train_epoch's result",
          "return the mean of the batch losses: their sum (as floats, with loss.item()) divided by the number "
          "of batches",
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
    net = model(student, "linear", W5, B5)
    value = number(student.train_epoch(net, loader(X, y, 13), LOSS, fixture("sgd", net, 1.0)), "train_epoch")
    state = student.state_dict(net)
    W0, b0 = W5.clone().requires_grad_(), B5.clone().requires_grad_()
    loss = nn.functional.cross_entropy(X @ W0.T + b0, y)
    gW, gb = torch.autograd.grad(loss, [W0, b0])
    hint = "one batch with SGD(lr=1) must move the weights by minus the gradient: zero_grad, forward, loss, " \
           "backward, step (in that order)"
    check_state(state, {"weight": W5 - gW, "bias": B5 - gb}, "the weights after train_epoch", hint, likely={
        "the weights did not change: call loss.backward() before optimizer.step()": {"weight": W5, "bias": B5},
        "the weights moved up the gradient: minimise the loss itself, not its negative":
        {"weight": W5 + gW, "bias": B5 + gb}})
    close(torch.tensor([value], dtype=F32), torch.tensor([loss.item()], dtype=F32), "train_epoch's result",
          "with one batch, the result is the loss of that batch before the step")


# -- evaluate --------------------------------------------------------------------------------------
# The grader chooses the data and the labels and computes the accuracy itself, on its own copy of the model.
def evaluation_data():
    """11 samples (batches of 4, 4, 3) that the linear model W5, B5 classifies right 4/4, 1/4 and 1/3 of."""
    X = rand(11, 5, seed=251)
    predicted = (X @ W5.T + B5).argmax(dim=1)
    y = predicted.clone()
    for i in (5, 6, 7, 9, 10):
        y[i] = (predicted[i] + 1) % 3
    return X, y


def check_accuracy(got, expected, what, hint, likely=None):
    """An accuracy (a float from ``number``) must equal the grader's within float32's tolerance."""
    if same_number(got, expected):
        return
    for message, value in (likely or {}).items():
        if same_number(got, value):
            fail(f"{what}: {message}")
    fail(f"{what}: {hint}")


@points(1, "evaluate")
def test_evaluate_eval_mode(student, ref):
    """evaluate puts the model in evaluation mode: a batch-norm model given in training mode is scored with
    its running statistics, which stay as they were"""
    X = rand(11, 5, seed=271) + rand(5, seed=272, scale=2.0)
    eval_net = local_model("batch_norm_classifier", W5, B5, training=False)
    y = eval_net(X).argmax(dim=1)
    y[[1, 4]] = (y[[1, 4]] + 1) % 3
    net = model(student, "batch_norm_classifier", W5, B5, training=True)
    got = number(student.evaluate(net, loader(X, y, 4)), "evaluate")
    in_training_mode = accuracy_of(local_model("batch_norm_classifier", W5, B5), X, y, batch_size=4)
    check_accuracy(got, accuracy_of(eval_net, X, y), "evaluate",
                   "the accuracy differs from the model's in evaluation mode: call model.eval() first",
                   likely={"the model was in training mode during evaluate (batch norm used each batch's "
                           "statistics): call model.eval() first": in_training_mode})
    check_state(student.state_dict(net), state_of(eval_net), "the model after evaluate",
                "evaluate changed the model: in evaluation mode batch norm keeps its running statistics; "
                "call model.eval() first and do not train")


@points(1, "evaluate")
def test_evaluate_no_grad(student, ref):
    """evaluate runs the model without tracking gradients (a model whose logits change when autograd records)"""
    X, y = evaluation_data()
    shift = torch.tensor([0.0, 40.0, 0.0])
    net = model(student, "grad_mode_classifier", W5, B5, shift, training=False)
    got = number(student.evaluate(net, loader(X, y, 4)), "evaluate")
    local = local_model("grad_mode_classifier", W5, B5, shift, training=False)
    with torch.enable_grad():
        tracked = float((local(X).argmax(dim=1) == y).to(F64).mean())
    check_accuracy(got, accuracy_of(local, X, y), "evaluate",
                   "the accuracy differs from the model's without gradient tracking: run the model inside "
                   "`with torch.no_grad():`",
                   likely={"gradients were tracked during evaluate: run the model inside `with torch.no_grad():`":
                           tracked})


@points(1, "evaluate")
def test_evaluate_fraction_of_samples(student, ref):
    """evaluate counts correct samples over all batches (uneven last batch) and divides by the sample count"""
    X, y = evaluation_data()
    got = number(student.evaluate(model(student, "linear", W5, B5), loader(X, y, 4)), "evaluate")
    check_accuracy(got, accuracy_of(local_model("linear", W5, B5), X, y), "evaluate",
                   "evaluate must return the fraction of all samples whose logits' argmax (along dim=1) equals "
                   "the label",
                   likely={"evaluate averaged the accuracy of each batch; with a smaller last batch that is not the "
                           "fraction of samples: count the correct samples and divide by the number of samples":
                           (1 + 1 / 4 + 1 / 3) / 3,
                           "evaluate must divide the number of correct samples by the number of samples (not of "
                           "batches)": 6 / 3,
                           "evaluate must divide the number of correct samples by the number of samples": 6.0})


@points(1, "evaluate")
def test_evaluate_perfect_and_hopeless(student, ref):
    """evaluate returns 1.0 for a model that is always right and 0.0 for one always wrong"""
    X = rand(13, 5, seed=261)
    predicted = (X @ W5.T + B5).argmax(dim=1)
    for y, expected in ((predicted, 1.0), ((predicted + 1) % 3, 0.0)):
        got = number(student.evaluate(model(student, "linear", W5, B5, training=False), loader(X, y, 5)),
                     "evaluate")
        check_accuracy(got, expected, "evaluate", f"a model that is {'always right' if expected else 'never right'} "
                       "must score 1.0 or 0.0: evaluate returns the fraction of samples classified correctly, a "
                       "float in [0, 1]")


# -- fit -------------------------------------------------------------------------------------------
# fit is checked against the grader's own fit of the same fixture model from the same starting state.
FIT_HINT = "make one torch.optim.Adam(model.parameters(), lr=lr) and one nn.CrossEntropyLoss(), then call " \
           "train_epoch once per epoch (fit's results also depend on your train_epoch)"


def check_fit(student, X, y, batch_size, epochs, lr, arguments):
    """Fit a linear fixture model in the worker (``fit(model, loader, **arguments)``, which should train for
    ``epochs`` at ``lr``) and here; the losses and the weights must agree."""
    net = model(student, "linear", W5, B5)
    losses = losses_list(student.fit(net, loader(X, y, batch_size), **arguments), epochs, "fit")
    args = ("linear", (W5, B5), X, y, batch_size, epochs)
    expected_state, expected_losses = fit_by_hand(*args, lr)
    state = student.state_dict(net)
    if within(losses, expected_losses, "steps") and same_structure(state, expected_state) \
            and within(flat_state(state), flat_state(expected_state), "steps"):
        return
    variants = {
        "this looks like plain SGD: fit uses torch.optim.Adam(model.parameters(), lr=lr)":
            fit_by_hand(*args, lr, optimizer="sgd"),
        "this looks like Adam with its default learning rate: pass lr=lr to torch.optim.Adam":
            fit_by_hand(*args, 1e-3),
        "a new optimizer is made every epoch: make one Adam before the loop over epochs (its running "
        "averages must carry over)": fit_by_hand(*args, lr, fresh_each_epoch=True),
        "this looks like nn.NLLLoss on the logits: use nn.CrossEntropyLoss (it applies log_softmax itself)":
            fit_by_hand(*args, lr, loss_fn=nn.functional.nll_loss)}
    close(losses, expected_losses, "fit's epoch losses", FIT_HINT, kind="steps",
          likely={m: v[1] for m, v in variants.items()})
    check_state(state, expected_state, "the weights after fit", FIT_HINT,
                likely={m: v[0] for m, v in variants.items()})


@points(1, "fit")
def test_fit_matches_reference(student, ref):
    """from the same initial weights, fit gives the grader's epoch losses and weights (Adam, cross-entropy)"""
    check_fit(student, X5, Y5, 4, 3, 0.05, {"epochs": 3, "lr": 0.05})


@points(1, "fit")
def test_fit_returns_epoch_losses(student, ref):
    """fit returns one loss per epoch, each the mean batch loss of that epoch"""
    for epochs in (4, 1):
        check_fit(student, X5, Y5, 4, epochs, 0.01, {"epochs": epochs, "lr": 0.01})


@points(1, "fit")
def test_fit_defaults(student, ref):
    """fit's defaults are 100 epochs and lr = 0.01"""
    check_fit(student, X5, Y5, 11, 100, 0.01, {})


SPIRAL_SIZES = [2, 64, 64, 3]


@points(2, "fit")
def test_fit_learns_spirals(student, ref):
    """fit trains a 2-64-64-3 ReLU network on spirals to at least 95% accuracy on new spiral data"""
    X, y = spiral(100, 3, 0.2, seed=0)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(123))
    X_test, y_test = spiral(100, 3, 0.2, seed=1)
    net = model(student, "relu_network", SPIRAL_SIZES, 0)
    student.fit(net, loader(X[order], y[order], 50), timeout=60)
    trained = local_model("relu_network", SPIRAL_SIZES, 0)
    state = student.state_dict(net)
    if type(state) is not dict or sorted(state) != sorted(trained.state_dict()):
        fail("fit changed the structure of the model it was given: train it, do not replace its layers")
    trained.load_state_dict(state)
    check(accuracy_of(trained, X_test, y_test) >= 0.95,
          "after fit, the network's accuracy on new spiral data stays below 95%: fit uses Adam with lr and "
          "nn.CrossEntropyLoss for `epochs` epochs of train_epoch")
