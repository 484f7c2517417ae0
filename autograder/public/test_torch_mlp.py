import torch
import math
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch_mlp import SpiralDataset, MLP, train_epoch, evaluate, fit


def test_SpiralDataset_length():
    assert len(SpiralDataset(n_per_class=5, n_classes=3)) == 15, "len should be n_per_class * n_classes (5 * 3 here)"
    assert len(SpiralDataset(n_per_class=4, n_classes=2)) == 8, "len should be n_per_class * n_classes (4 * 2 here)"


def test_SpiralDataset_item_dtypes():
    x, label = SpiralDataset(n_per_class=5, n_classes=3)[7]
    assert x.shape == (2,) and x.dtype == torch.float32, "an item's x should be a float32 tensor of shape (2,)"
    assert label.shape == () and label.dtype == torch.int64, "an item's label should be a 0-d int64 tensor"
    assert 0 <= label.item() < 3, "labels should be class indices 0 .. n_classes - 1"


def test_SpiralDataset_seed_fixes_the_data():
    a = SpiralDataset(n_per_class=5, seed=0)
    b = SpiralDataset(n_per_class=5, seed=0)
    c = SpiralDataset(n_per_class=5, seed=1)
    xa = torch.stack([a[i][0] for i in range(len(a))])
    xb = torch.stack([b[i][0] for i in range(len(b))])
    xc = torch.stack([c[i][0] for i in range(len(c))])
    assert torch.equal(xa, xb), "the same seed should give the same points: draw the noise from torch.Generator().manual_seed(seed)"
    assert not torch.equal(xa, xc), "another seed should give other points: is the noise drawn from the seeded generator?"


def test_MLP_output_shape():
    model = MLP(2, [8, 8], 3)
    assert isinstance(model, nn.Module), "MLP should be an nn.Module"
    out = model(torch.zeros(5, 2))
    assert out.shape == (5, 3), "MLP(2, [8, 8], 3) should map (5, 2) inputs to (5, 3) logits"


def test_MLP_parameter_count():
    model = MLP(2, [8, 8], 3)
    count = sum(p.numel() for p in model.parameters())
    assert count == 123, f"MLP(2, [8, 8], 3) should be Linear(2, 8), Linear(8, 8), Linear(8, 3): 123 parameters, got {count}"


def test_train_epoch_returns_mean_loss():
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    loader = DataLoader(TensorDataset(torch.ones(4, 2), torch.tensor([0, 1, 0, 1])), batch_size=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    got = train_epoch(model, loader, nn.CrossEntropyLoss(), optimizer)
    # a float: a Python float or a 0-d floating-point tensor
    is_float = isinstance(got, float) or (isinstance(got, torch.Tensor) and got.dim() == 0
                                          and got.is_floating_point())
    assert is_float, "train_epoch should return a float: use loss.item()"
    assert abs(got - math.log(2.0)) < 1e-6, "with zero weights every batch loss is ln 2, so the mean batch loss should be ln 2"


def test_train_epoch_updates_model():
    model = nn.Linear(2, 2)
    model.eval()
    before = model.weight.detach().clone()
    loader = DataLoader(TensorDataset(torch.ones(4, 2), torch.tensor([0, 1, 1, 1])), batch_size=2)
    train_epoch(model, loader, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1))
    assert model.training, "train_epoch should put the model in training mode: call model.train()"
    assert not torch.equal(model.weight, before), "the weights did not change: call loss.backward() and optimizer.step()"


def test_evaluate_perfect_model_scores_one():
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
        model.bias.zero_()
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, 3.0]])
    loader = DataLoader(TensorDataset(X, torch.tensor([0, 1, 0, 1])), batch_size=3)
    got = evaluate(model, loader)
    # a float: a Python float or a 0-d floating-point tensor
    is_float = isinstance(got, float) or (isinstance(got, torch.Tensor) and got.dim() == 0
                                          and got.is_floating_point())
    assert is_float, "evaluate should return a float"
    assert got == 1.0, "this model classifies every sample right (argmax of the logits), so the accuracy should be 1.0"


def test_evaluate_counts_samples_not_batches():
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
        model.bias.zero_()
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, 3.0]])
    loader = DataLoader(TensorDataset(X, torch.tensor([0, 1, 1, 1])), batch_size=3)
    got = evaluate(model, loader)
    assert abs(got - 0.75) < 1e-9, "3 of 4 samples are right: divide the correct count by the number of samples, not batches"


def test_evaluate_sets_eval_mode():
    model = nn.Linear(2, 2)
    model.train()
    loader = DataLoader(TensorDataset(torch.ones(2, 2), torch.tensor([0, 1])), batch_size=2)
    evaluate(model, loader)
    assert not model.training, "evaluate should put the model in evaluation mode: call model.eval()"


def test_fit_returns_decreasing_losses():
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    X = torch.tensor([[-2.0, -1.0], [-1.0, -2.0], [2.0, 1.0], [1.0, 2.0]])
    loader = DataLoader(TensorDataset(X, torch.tensor([0, 0, 1, 1])), batch_size=2)
    losses = fit(model, loader, epochs=5, lr=0.1)
    assert isinstance(losses, list) and len(losses) == 5, "fit should return a list with one loss per epoch (5 here)"
    # a float: a Python float or a 0-d floating-point tensor
    floats = [isinstance(v, float) or (isinstance(v, torch.Tensor) and v.dim() == 0
                                    and v.is_floating_point()) for v in losses]
    assert all(floats), "each epoch loss should be a float (the result of train_epoch)"
    assert losses[-1] < losses[0], "the loss should go down on this easy dataset: use Adam with lr and nn.CrossEntropyLoss"
