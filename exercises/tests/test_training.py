import torch
from training import sgd_step, minibatches, train


def test_sgd_step_arithmetic():
    params = [(torch.tensor([[1.0, 2.0]]), torch.tensor([3.0]))]
    grads = [(torch.tensor([[10.0, -10.0]]), torch.tensor([1.0]))]
    (W, b), = sgd_step(params, grads, 0.1)
    torch.testing.assert_close(W, torch.tensor([[0.0, 3.0]]), msg="W_new should be W - lr * grad_W: [1 - 1, 2 + 1]")
    torch.testing.assert_close(b, torch.tensor([2.9]), msg="b_new should be b - lr * grad_b: 3 - 0.1")


def test_sgd_step_does_not_modify_params():
    params = [(torch.ones(2, 2), torch.ones(2)), (torch.ones(2, 1), torch.ones(1))]
    grads = [(torch.ones(2, 2), torch.ones(2)), (torch.ones(2, 1), torch.ones(1))]
    new = sgd_step(params, grads, 0.5)
    assert len(new) == 2, "sgd_step should return one (W, b) pair per layer"
    for W, b in params:
        assert (W == 1).all() and (b == 1).all(), "sgd_step changed params in place: return new tensors (W - lr * gW), don't use -="


def test_minibatches_in_order_with_smaller_last_batch():
    X = torch.arange(10.0).reshape(5, 2)
    y = torch.arange(5)
    batches = list(minibatches(X, y, 2))
    assert [len(yb) for _, yb in batches] == [2, 2, 1], "5 rows in batches of 2 should give sizes [2, 2, 1]: keep the smaller last batch"
    assert torch.equal(torch.cat([yb for _, yb in batches]), y), "without a generator the rows should come in order"
    assert torch.equal(torch.cat([Xb for Xb, _ in batches]), X), "the X batches should hold the rows of X in order"


def test_minibatches_shuffled_cover_every_row_once():
    X = torch.arange(14.0).reshape(7, 2)
    y = torch.arange(7)
    batches = list(minibatches(X, y, 3, generator=torch.Generator().manual_seed(0)))
    ys = torch.cat([yb for _, yb in batches])
    assert torch.equal(ys.sort().values, y), "with a generator every row should still appear exactly once: shuffle with a permutation (torch.randperm)"
    Xs = torch.cat([Xb for Xb, _ in batches])
    assert torch.equal(Xs, X[ys]), "X_batch and y_batch should use the same rows"


def test_train_losses_decrease():
    X = torch.tensor([[-2.0, -1.0], [-1.0, -2.0], [-1.5, -1.5], [-2.0, -2.0],
                      [2.0, 1.0], [1.0, 2.0], [1.5, 1.5], [2.0, 2.0]])
    y = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    params, losses = train(X, y, [2, 8, 2], lr=0.1, epochs=20, batch_size=4)
    assert isinstance(losses, list) and len(losses) == 20, "train should return one loss per epoch (20 here) in a list"
    # a float: a Python float or a 0-d floating-point tensor
    floats = [isinstance(v, float) or (isinstance(v, torch.Tensor) and v.dim() == 0
                                    and v.is_floating_point()) for v in losses]
    assert all(floats), "each epoch loss should be a float: use loss.item()"
    assert losses[-1] < losses[0], "the loss should go down on this easy dataset: check backward and sgd_step in the loop"
    (W1, b1), (W2, b2) = params
    assert W1.shape == (2, 8) and W2.shape == (8, 2), "params should have the shapes given by layer_sizes [2, 8, 2]"
