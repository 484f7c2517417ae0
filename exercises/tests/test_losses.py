import torch
import math
from losses import mse, mse_derivative, binary_cross_entropy, cross_entropy, cross_entropy_derivative


def test_mse_hand_example():
    got = mse(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 0.0, 0.0]))
    assert got.shape == (), "mse should return a 0-d tensor: take the mean"
    torch.testing.assert_close(got, torch.tensor(13 / 3), msg="mse([1, 2, 3], [1, 0, 0]) = (0 + 4 + 9) / 3")


def test_mse_mean_over_all_elements():
    got = mse(torch.tensor([[1.0, 1.0], [1.0, 3.0]]), torch.zeros(2, 2))
    torch.testing.assert_close(got, torch.tensor(3.0), msg="mse averages over all elements: (1 + 1 + 1 + 9) / 4 = 3")


def test_mse_derivative_hand_example():
    got = mse_derivative(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(got, torch.tensor([0.0, 4 / 3, 2.0]), msg="mse_derivative = 2 * (y_pred - y_true) / N with N = 3 here")


def test_mse_derivative_shape_and_dtype():
    got = mse_derivative(torch.ones(2, 3, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64))
    assert got.shape == (2, 3), "mse_derivative should have the shape of y_pred"
    assert got.dtype == torch.float64, "mse_derivative should keep the dtype of y_pred"
    torch.testing.assert_close(got, torch.full((2, 3), 2 / 6, dtype=torch.float64), msg="divide by N = y_pred.numel() (6 here), not by the number of rows")


def test_binary_cross_entropy_hand_example():
    got = binary_cross_entropy(torch.tensor([0.5, 0.8]), torch.tensor([1.0, 0.0]))
    assert got.shape == (), "binary_cross_entropy should return a 0-d tensor: take the mean"
    torch.testing.assert_close(got, torch.tensor(math.log(10) / 2), msg="BCE = (-ln 0.5 - ln(1 - 0.8)) / 2 = ln(10) / 2; mind the minus sign")


def test_binary_cross_entropy_finite_at_0_and_1():
    got = binary_cross_entropy(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.0]))
    assert torch.isfinite(got), "BCE gave inf or nan for p = 0 or 1: clamp p to [eps, 1 - eps] before the log"
    assert got.item() > 10, "confidently wrong predictions (p = 0 for y = 1) should give a large loss"


def test_cross_entropy_hand_example():
    logits = torch.tensor([[0.0, math.log(2.0)], [math.log(3.0), 0.0]])
    got = cross_entropy(logits, torch.tensor([1, 0]))
    assert got.shape == (), "cross_entropy should return a 0-d tensor: the mean over rows"
    torch.testing.assert_close(got, torch.tensor(math.log(2.0) / 2), msg="softmax gives 2/3 and 3/4 for the targets, so the loss is (-ln 2/3 - ln 3/4) / 2 = ln(2) / 2")


def test_cross_entropy_uniform_logits():
    got = cross_entropy(torch.zeros(2, 3), torch.tensor([0, 2]))
    torch.testing.assert_close(got, torch.tensor(math.log(3.0)), msg="equal logits over 3 classes give probability 1/3, so the loss is ln 3")


def test_cross_entropy_large_logits_finite():
    got = cross_entropy(torch.tensor([[1e4, 0.0], [0.0, 1e4]]), torch.tensor([0, 0]))
    assert torch.isfinite(got), "cross_entropy gave inf or nan for logits 1e4: subtract the row maximum (log-sum-exp)"
    torch.testing.assert_close(got, torch.tensor(5000.0), msg="row 1 is right (loss 0), row 2 is off by 1e4 (loss 1e4): the mean is 5000")


def test_cross_entropy_derivative_hand_example():
    got = cross_entropy_derivative(torch.zeros(2, 2), torch.tensor([0, 1]))
    expected = torch.tensor([[-0.25, 0.25], [0.25, -0.25]])
    torch.testing.assert_close(got, expected, msg="(softmax - one_hot) / n: ([0.5, 0.5] - [1, 0]) / 2 = [-0.25, 0.25] for row 1")


def test_cross_entropy_derivative_rows_sum_to_zero():
    logits = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 5.0, -1.0], [2.0, -2.0, 0.0, 1.0]])
    got = cross_entropy_derivative(logits, torch.tensor([0, 1, 3]))
    assert got.shape == (3, 4), "the gradient should have the shape of logits (n, C)"
    torch.testing.assert_close(got.sum(dim=1), torch.zeros(3), msg="each row of softmax - one_hot sums to 0: check the one-hot and the softmax along dim 1")
