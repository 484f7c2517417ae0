import torch
import math
from backprop import dense_backward, relu_backward, sigmoid_backward, backward, numerical_gradient


def test_dense_backward_hand_example():
    grad_out = torch.tensor([[1.0, 1.0], [0.0, 2.0]])
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    W = torch.tensor([[1.0, 0.0], [2.0, -1.0]])
    grad_x, grad_W, grad_b = dense_backward(grad_out, x, W)
    torch.testing.assert_close(grad_x, torch.tensor([[1.0, 1.0], [0.0, -2.0]]), msg="grad_x is wrong: each input collects the gradients of the outputs it feeds, through their weights; it has the shape of x")
    torch.testing.assert_close(grad_W, torch.tensor([[1.0, 7.0], [2.0, 10.0]]), msg="grad_W is wrong: each weight gathers, over the batch, its input times the gradient at its output; it has the shape of W")
    torch.testing.assert_close(grad_b, torch.tensor([1.0, 3.0]), msg="grad_b should be grad_out summed over the batch (dim 0)")


def test_dense_backward_shapes():
    grad_x, grad_W, grad_b = dense_backward(torch.ones(3, 2), torch.ones(3, 4), torch.ones(4, 2))
    assert grad_x.shape == (3, 4), "grad_x should have the shape of x (n, d_in)"
    assert grad_W.shape == (4, 2), "grad_W should have the shape of W (d_in, d_out)"
    assert grad_b.shape == (2,), "grad_b should have shape (d_out,): sum over the batch"


def test_relu_backward_masks_nonpositive():
    got = relu_backward(torch.tensor([5.0, 6.0, 7.0]), torch.tensor([-1.0, 0.0, 2.0]))
    torch.testing.assert_close(got, torch.tensor([0.0, 0.0, 7.0]), msg="relu_backward passes grad_out only where z > 0 (z = 0 gives 0)")


def test_sigmoid_backward_hand_example():
    got = sigmoid_backward(torch.tensor([2.0, -4.0]), torch.tensor([0.0, 0.0]))
    torch.testing.assert_close(got, torch.tensor([0.5, -1.0]), msg="sigmoid'(0) = 0.25, so the result should be grad_out * 0.25")


def test_backward_zero_params_hand_example():
    params = [(torch.zeros(2, 3), torch.zeros(3)), (torch.zeros(3, 2), torch.zeros(2))]
    x = torch.tensor([[1.0, 2.0], [3.0, -1.0]])
    loss, grads = backward(x, torch.tensor([0, 0]), params)
    torch.testing.assert_close(loss, torch.tensor(math.log(2.0)), msg="all-zero params give equal logits over 2 classes, so the loss is ln 2")
    (gW1, gb1), (gW2, gb2) = grads
    torch.testing.assert_close(gb2, torch.tensor([-0.5, 0.5]), msg="the last grad_b is (softmax - one_hot) summed over rows / n = [-0.5, 0.5]")
    torch.testing.assert_close(gW2, torch.zeros(3, 2), msg="the hidden outputs are relu(0) = 0, so the last grad_W should be 0")
    torch.testing.assert_close(gW1, torch.zeros(2, 3), msg="W2 is zero, so no gradient reaches the first layer: grad_W1 should be 0")


def test_backward_grads_shaped_like_params():
    params = [(torch.full((2, 3), 0.5), torch.zeros(3)), (torch.full((3, 4), -0.5), torch.zeros(4)), (torch.ones(4, 2), torch.zeros(2))]
    x = torch.tensor([[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]])
    loss, grads = backward(x, torch.tensor([0, 1, 1]), params, activation="tanh")
    assert loss.shape == (), "loss should be a 0-d tensor (cross_entropy of the logits)"
    assert len(grads) == 3, "grads should hold one (grad_W, grad_b) pair per layer, in the order of params"
    for (W, b), (gW, gb) in zip(params, grads):
        assert gW.shape == W.shape and gb.shape == b.shape, "each grad_W and grad_b should have the shape of its W and b"


def test_numerical_gradient_of_sum_of_squares():
    x = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    got = numerical_gradient(lambda t: (t ** 2).sum(), x)
    torch.testing.assert_close(got, torch.tensor([2.0, -4.0, 6.0], dtype=torch.float64), msg="the gradient of sum(x**2) is 2x: nudge one entry at a time by +h and by -h, and divide the change in f by 2h")


def test_numerical_gradient_2d_x():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    c = torch.tensor([[5.0, -1.0], [0.0, 2.0]], dtype=torch.float64)
    got = numerical_gradient(lambda t: (c * t).sum(), x)
    assert got.shape == (2, 2), "the result should have the shape of x, even when x is 2-D"
    torch.testing.assert_close(got, c, msg="the gradient of sum(c * x) is c: perturb every element of x, not just the first row")


def test_numerical_gradient_leaves_x_unchanged():
    x = torch.tensor([0.5, -1.5], dtype=torch.float64)
    numerical_gradient(lambda t: (t ** 3).sum(), x)
    torch.testing.assert_close(x, torch.tensor([0.5, -1.5], dtype=torch.float64), msg="x changed: perturb a copy (x.clone()), or restore each element")
