import torch
import math
from activations import sigmoid, sigmoid_derivative, tanh, tanh_derivative, relu, relu_derivative, softmax


def test_sigmoid_known_values():
    z = torch.tensor([0.0, math.log(3.0), -math.log(3.0)])
    torch.testing.assert_close(sigmoid(z), torch.tensor([0.5, 0.75, 0.25]), msg="sigmoid(0) should be 0.5 and sigmoid(ln 3) = 1 / (1 + 1/3) = 0.75")


def test_sigmoid_keeps_shape_and_dtype():
    z = torch.zeros(2, 3, dtype=torch.float64)
    got = sigmoid(z)
    assert got.shape == (2, 3), "sigmoid works elementwise: keep the shape of z"
    assert got.dtype == torch.float64, "sigmoid should keep the dtype of z (float64 here)"


def test_sigmoid_stable_for_large_inputs():
    got = sigmoid(torch.tensor([-1000.0, 1000.0]))
    assert torch.isfinite(got).all(), "sigmoid(-1000.) gave inf or nan: exp(1000) overflows, use exp(-|z|) instead"
    torch.testing.assert_close(got, torch.tensor([0.0, 1.0]), msg="sigmoid(-1000) should be about 0 and sigmoid(1000) about 1")


def test_sigmoid_derivative_known_values():
    z = torch.tensor([0.0, math.log(3.0)])
    torch.testing.assert_close(sigmoid_derivative(z), torch.tensor([0.25, 0.1875]), msg="sigmoid'(z) = s * (1 - s): 0.5 * 0.5 = 0.25 at 0, 0.75 * 0.25 at ln 3")


def test_tanh_known_values():
    z = torch.tensor([0.0, math.log(2.0), -math.log(2.0)])
    torch.testing.assert_close(tanh(z), torch.tensor([0.0, 0.6, -0.6]), msg="tanh(0) should be 0 and tanh(ln 2) = (2 - 1/2) / (2 + 1/2) = 0.6; tanh is odd")


def test_tanh_stable_for_large_inputs():
    got = tanh(torch.tensor([-1000.0, 1000.0]))
    assert torch.isfinite(got).all(), "tanh(1000.) gave inf or nan: exp(1000) overflows, use exp(-2|z|) instead"
    torch.testing.assert_close(got, torch.tensor([-1.0, 1.0]), msg="tanh(-1000) should be -1 and tanh(1000) should be 1")


def test_tanh_derivative_known_values():
    z = torch.tensor([0.0, math.log(2.0)])
    torch.testing.assert_close(tanh_derivative(z), torch.tensor([1.0, 0.64]), msg="tanh'(z) = 1 - tanh(z)**2: 1 at 0 and 1 - 0.6**2 = 0.64 at ln 2")


def test_relu_known_values():
    got = relu(torch.tensor([-2.0, 0.0, 3.0]))
    torch.testing.assert_close(got, torch.tensor([0.0, 0.0, 3.0]), msg="relu(z) = max(0, z): negatives become 0, positives stay")


def test_relu_keeps_shape_and_dtype():
    z = torch.tensor([[-1.0, 2.0], [3.0, -4.0]], dtype=torch.float64)
    got = relu(z)
    assert got.shape == (2, 2) and got.dtype == torch.float64, "relu should keep the shape and dtype of z"
    torch.testing.assert_close(z, torch.tensor([[-1.0, 2.0], [3.0, -4.0]], dtype=torch.float64), msg="relu must not change z in place")


def test_relu_derivative_zero_is_zero():
    got = relu_derivative(torch.tensor([-2.0, 0.0, 3.0]))
    torch.testing.assert_close(got, torch.tensor([0.0, 0.0, 1.0]), msg="relu'(z) should be 1.0 where z > 0, else 0.0 (so relu'(0) = 0), as floats")


def test_softmax_known_values():
    got = softmax(torch.tensor([0.0, math.log(2.0)]))
    torch.testing.assert_close(got, torch.tensor([1 / 3, 2 / 3]), msg="softmax([0, ln 2]) = [1, 2] / 3: exp of each value divided by their sum")


def test_softmax_rows_sum_to_one_along_dim():
    z = torch.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
    torch.testing.assert_close(softmax(z).sum(dim=-1), torch.ones(2), msg="softmax rows should sum to 1: divide by the sum along `dim`")
    torch.testing.assert_close(softmax(z, dim=0).sum(dim=0), torch.ones(3), msg="softmax(z, dim=0) should sum to 1 down each column: use `dim`, not -1")


def test_softmax_stable_for_large_logits():
    got = softmax(torch.tensor([1000.0, 1000.0]))
    assert torch.isfinite(got).all(), "softmax([1000, 1000]) gave inf or nan: subtract the maximum along `dim` before exp"
    torch.testing.assert_close(got, torch.tensor([0.5, 0.5]), msg="softmax of two equal logits should be [0.5, 0.5]")
