import torch
from mlp import init_params, dense, forward, xor_params


def test_init_params_shapes():
    params = init_params([2, 8, 3])
    assert len(params) == 2, "layer sizes [2, 8, 3] should give 2 layers: one (W, b) per consecutive pair"
    (W1, b1), (W2, b2) = params
    assert W1.shape == (2, 8) and W2.shape == (8, 3), "W should have shape (d_in, d_out): (2, 8) then (8, 3)"
    assert b1.shape == (8,) and b2.shape == (3,), "b should have shape (d_out,): (8,) then (3,)"
    assert W1.dtype == torch.float32 and b1.dtype == torch.float32, "parameters should be float32"
    assert (b1 == 0).all() and (b2 == 0).all(), "biases should start at zero"


def test_init_params_same_seed_same_params():
    p1 = init_params([3, 4, 2], generator=torch.Generator().manual_seed(0))
    p2 = init_params([3, 4, 2], generator=torch.Generator().manual_seed(0))
    for (W1, _), (W2, _) in zip(p1, p2):
        assert torch.equal(W1, W2), "the same seed should give the same weights: pass `generator` to torch.randn"


def test_init_params_he_scale():
    (W, b), = init_params([200, 100], generator=torch.Generator().manual_seed(0))
    std = W.std().item()
    assert 0.09 < std < 0.11, f"He init: W's std should be sqrt(2 / d_in) = 0.1 here, got {std:.3f}"


def test_dense_hand_example():
    x = torch.tensor([[1.0, 2.0]])
    W = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    b = torch.tensor([0.5, 0.0, -1.0])
    torch.testing.assert_close(dense(x, W, b), torch.tensor([[1.5, 2.0, 2.0]]), msg="dense should compute x @ W + b")


def test_dense_batch_shape():
    got = dense(torch.ones(4, 3), torch.ones(3, 5), torch.zeros(5))
    assert got.shape == (4, 5), "x (n, d_in) with W (d_in, d_out) should give (n, d_out)"


def test_forward_last_layer_has_no_activation():
    params = [(torch.eye(2), torch.zeros(2)), (torch.tensor([[1.0], [1.0]]), torch.tensor([-3.0]))]
    got = forward(torch.tensor([[2.0, -2.0]]), params)
    torch.testing.assert_close(got, torch.tensor([[-1.0]]), msg="relu([2, -2]) = [2, 0], then 2 + 0 - 3 = -1; the last layer gets no activation")


def test_forward_uses_the_named_activation():
    params = [(torch.eye(2), torch.zeros(2)), (torch.tensor([[1.0], [1.0]]), torch.tensor([-3.0]))]
    got = forward(torch.tensor([[2.0, -2.0]]), params, activation="step")
    torch.testing.assert_close(got, torch.tensor([[-2.0]]), msg="with activation='step' the hidden layer is [1, 0], so the output is 1 - 3 = -2")


def test_forward_output_shape():
    params = [(torch.ones(3, 4), torch.zeros(4)), (torch.ones(4, 4), torch.zeros(4)), (torch.ones(4, 2), torch.zeros(2))]
    got = forward(torch.ones(5, 3), params)
    assert got.shape == (5, 2), "forward through sizes 3 -> 4 -> 4 -> 2 should return (n, 2): loop over every layer"


def test_xor_params_shapes():
    (W1, b1), (W2, b2) = xor_params()
    assert W1.shape == (2, 2) and b1.shape == (2,), "the hidden layer should be W1 (2, 2) and b1 (2,)"
    assert W2.shape == (2, 1) and b2.shape == (1,), "the output layer should be W2 (2, 1) and b2 (1,)"
    assert W1.dtype == torch.float32 and W2.dtype == torch.float32, "xor_params should be float32: write floats like 1.0"


def test_xor_params_computes_XOR():
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    (W1, b1), (W2, b2) = xor_params()
    h = (X @ W1 + b1 >= 0).to(X.dtype)
    out = (h @ W2 + b2 >= 0).to(X.dtype)
    torch.testing.assert_close(out, torch.tensor([[0.0], [1.0], [1.0], [0.0]]), msg="the step network should output XOR: try OR and AND as hidden units, then OR and not AND")
