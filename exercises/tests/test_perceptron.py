import torch
from perceptron import weighted_sum, step, predict, update, train


def test_weighted_sum_one_example():
    x = torch.tensor([1.0, 2.0])
    w = torch.tensor([3.0, -1.0])
    z = weighted_sum(x, w, 0.5)
    assert z.shape == (), "weighted_sum of one example (d,) should be a 0-d tensor: one number, the sum of the d products, not the d products themselves"
    torch.testing.assert_close(z, torch.tensor(1.5), msg="weighted_sum([1, 2], [3, -1], 0.5) should be 1*3 + 2*(-1) + 0.5 = 1.5")


def test_weighted_sum_batch():
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    w = torch.tensor([2.0, 3.0], dtype=torch.float64)
    b = torch.tensor(-1.0, dtype=torch.float64)
    z = weighted_sum(x, w, b)
    assert z.shape == (3,), "a batch x of shape (n, d) should give z of shape (n,): one sum per row"
    assert z.dtype == torch.float64, "weighted_sum should keep the dtype of x (float64 here)"
    torch.testing.assert_close(z, torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64), msg="each row should give x_row @ w + b")


def test_step_zero_is_one():
    got = step(torch.tensor([-1.0, 0.0, 2.0]))
    torch.testing.assert_close(got, torch.tensor([0.0, 1.0, 1.0]), msg="step should be 0.0 for z < 0 and 1.0 for z >= 0 (so step(0) = 1.0)")


def test_step_keeps_shape_and_dtype():
    z = torch.tensor([[-0.5, 0.5, 3.0], [0.0, -2.0, 1.0]], dtype=torch.float64)
    got = step(z)
    assert got.shape == (2, 3), "step should keep the shape of z"
    assert got.dtype == torch.float64, "step should return floats in the dtype of z, not bools (a comparison gives bools)"


def test_predict_AND_gate():
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    w = torch.tensor([1.0, 1.0])
    got = predict(X, w, -1.5)
    torch.testing.assert_close(got, torch.tensor([0.0, 0.0, 0.0, 1.0]), msg="with w = [1, 1] and b = -1.5 the neuron computes AND: predict = step(weighted_sum)")


def test_update_wrong_example_moves_weights():
    x = torch.tensor([1.0, 2.0])
    w = torch.tensor([0.0, 0.0])
    b = torch.tensor(-1.0)
    w_new, b_new = update(x, 1.0, w, b, 0.5)
    torch.testing.assert_close(w_new, torch.tensor([0.5, 1.0]), msg="predict is 0 but y is 1, so e = 1 and w_new = w + lr * e * x")
    torch.testing.assert_close(b_new, torch.tensor(-0.5), msg="b_new should be a 0-d tensor equal to b + lr * e")
    torch.testing.assert_close(w, torch.tensor([0.0, 0.0]), msg="update must not change w in place: return a new tensor")


def test_update_correct_example_changes_nothing():
    x = torch.tensor([1.0, 1.0])
    w = torch.tensor([1.0, 1.0])
    w_new, b_new = update(x, 1.0, w, 0.0, 1.0)
    torch.testing.assert_close(w_new, torch.tensor([1.0, 1.0]), msg="a correctly classified example has e = 0: w should not change")
    assert torch.is_tensor(b_new) and b_new.shape == (), "b_new should be a 0-d tensor even when b is a float"
    assert b_new.item() == 0.0, "a correctly classified example has e = 0: b should not change"


def test_train_learns_AND():
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = torch.tensor([0.0, 0.0, 0.0, 1.0])
    w, b, mistakes = train(X, y)
    assert isinstance(mistakes, list) and len(mistakes) > 0, "train should return mistakes as a list with one int per epoch"
    assert mistakes[-1] == 0, "AND is learnable: training should stop after an epoch with 0 mistakes"
    assert all(m > 0 for m in mistakes[:-1]), "training should stop right after the first epoch with no mistakes"
    got = ((X @ w + b) >= 0).to(X.dtype)
    torch.testing.assert_close(got, y, msg="the returned w and b should classify all four AND examples correctly")


def test_train_XOR_never_converges():
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = torch.tensor([0.0, 1.0, 1.0, 0.0])
    w, b, mistakes = train(X, y, max_epochs=10)
    assert len(mistakes) == 10, "XOR is not learnable: train should run all max_epochs epochs (one mistakes entry each)"
    assert all(m > 0 for m in mistakes), "a single perceptron cannot fit XOR: every epoch should have at least one mistake"
