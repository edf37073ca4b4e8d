"""The cases: 48 realistic mistakes outside the catalogue (solutions/*/mutants.py), and correct styles.

Every mistake is one a student makes in a real submission: modifying inputs in place, a dtype slip,
a wrong formula, a wrong axis, a missing term, an instability. The catalogue's mistakes (the
mutants) are not repeated here: these test how the judge handles mistakes it was not told about.
"""

from benchmarks.mistakes import mistake, style

MISTAKES = [
    # ------------------------------------------------------------ activations
    mistake("tanh computed in place", "activations", "tanh", """
def tanh(z):
    np.tanh(z, out=z)
    return z
"""),
    mistake("tanh_backward overwrites dout", "activations", "tanh_backward", """
def tanh_backward(dout, z):
    dout *= 1 - np.tanh(z) ** 2
    return dout
"""),
    mistake("tanh_backward squares after subtracting", "activations", "tanh_backward", """
def tanh_backward(dout, z):
    return dout * (1 - np.tanh(z)) ** 2
"""),
    mistake("relu zeroes the negatives of z in place", "activations", "relu", """
def relu(z):
    z[z < 0] = 0
    return z
"""),
    mistake("relu_backward builds a float64 array for float32 input", "activations", "relu_backward", """
def relu_backward(dout, z):
    dz = np.zeros(np.shape(z))
    dz[z > 0] = dout[z > 0]
    return dz
"""),
    mistake("relu_backward masks with the sign of dout", "activations", "relu_backward", """
def relu_backward(dout, z):
    return np.where(dout > 0, dout, 0)
"""),
    mistake("leaky_relu returns alpha on the negative side", "activations", "leaky_relu", """
def leaky_relu(z, alpha=0.01):
    return np.where(z > 0, z, alpha)
"""),
    mistake("leaky_relu with the slope's sign flipped", "activations", "leaky_relu", """
def leaky_relu(z, alpha=0.01):
    return np.where(z > 0, z, -alpha * z)
"""),
    mistake("leaky_relu_backward forgets dout on the negative side", "activations", "leaky_relu_backward", """
def leaky_relu_backward(dout, z, alpha=0.01):
    return np.where(z > 0, dout, alpha)
"""),
    # ------------------------------------------------------------ losses
    mistake("softmax normalises in place", "losses", "softmax", """
def softmax(z, axis=-1):
    z -= z.max(axis=axis, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=axis, keepdims=True)
    return z
""", ["cross_entropy", "cross_entropy_grad"]),
    mistake("log_softmax shifts in place", "losses", "log_softmax", """
def log_softmax(z, axis=-1):
    z -= z.max(axis=axis, keepdims=True)
    z -= np.log(np.exp(z).sum(axis=axis, keepdims=True))
    return z
""", ["cross_entropy"]),
    mistake("softmax ignores its axis argument", "losses", "softmax", """
def softmax(z, axis=-1):
    z = _as_float(z)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
""", ["cross_entropy", "cross_entropy_grad"]),
    mistake("cross_entropy takes the log of softmax plus 1e-12", "losses", "cross_entropy", """
def cross_entropy(logits, y):
    logits = _as_float(logits)
    q = softmax(logits, axis=1)
    y = np.asarray(y)
    P = y.astype(logits.dtype) if y.shape == logits.shape else np.eye(logits.shape[1], dtype=logits.dtype)[y]
    return -(P * np.log(q + 1e-12)).sum(axis=1).mean()
"""),
    mistake("cross_entropy divides by the number of classes", "losses", "cross_entropy", """
def cross_entropy(logits, y):
    logits = _as_float(logits)
    log_q = log_softmax(logits, axis=1)
    y = np.asarray(y)
    P = y.astype(logits.dtype) if y.shape == logits.shape else np.eye(logits.shape[1], dtype=logits.dtype)[y]
    return -(P * log_q).sum() / logits.shape[1]
"""),
    mistake("cross_entropy_grad forgets to subtract the targets", "losses", "cross_entropy_grad", """
def cross_entropy_grad(logits, y):
    logits = _as_float(logits)
    return softmax(logits, axis=1) / logits.shape[0]
"""),
    mistake("binary_cross_entropy clips p at 1e-7 instead of clamping the logs", "losses", "binary_cross_entropy", """
def binary_cross_entropy(p, y):
    p = np.clip(_as_float(p), 1e-7, 1 - 1e-7)
    y = np.asarray(y, dtype=p.dtype)
    return np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)))
"""),
    mistake("binary_cross_entropy_with_logits overflows for negative logits", "losses",
            "binary_cross_entropy_with_logits", """
def binary_cross_entropy_with_logits(z, y):
    z = _as_float(z)
    y = np.asarray(y, dtype=z.dtype)
    return np.mean(np.log1p(np.exp(-z)) + (1 - y) * z)
"""),
    mistake("mse_loss returns the root of the mean", "losses", "mse_loss", """
def mse_loss(y_hat, y):
    d = _as_float(y_hat) - np.asarray(y)
    return np.sqrt(np.mean(d * d))
"""),
    # ------------------------------------------------------------ mlp
    mistake("sigmoid negates z in place", "mlp", "sigmoid", """
def sigmoid(z):
    z = np.asarray(z)
    z *= -1
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(z))
""", ["forward", "train"]),
    mistake("sigmoid_backward with a plus sign", "mlp", "sigmoid_backward", """
def sigmoid_backward(a):
    return a * (1 + a)
""", ["backward", "train"]),
    mistake("forward forgets b2", "mlp", "forward", """
def forward(X, params):
    X = np.asarray(X)
    A1 = sigmoid(X @ params["W1"] + params["b1"])
    Y = sigmoid(A1 @ params["W2"])
    return Y, (X, A1, Y)
""", ["train"]),
    mistake("forward uses tanh in the hidden layer", "mlp", "forward", """
def forward(X, params):
    X = np.asarray(X)
    A1 = np.tanh(X @ params["W1"] + params["b1"])
    Y = sigmoid(A1 @ params["W2"] + params["b2"])
    return Y, (X, A1, Y)
""", ["train"]),
    mistake("loss divides by the number of outputs K", "mlp", "loss", """
def loss(Y, T):
    Y, T = np.asarray(Y), np.asarray(T)
    return float(0.5 * np.sum((Y - T) ** 2) / Y.shape[1])
""", ["train"]),
    mistake("backward overwrites the cached output", "mlp", "backward", """
def backward(params, cache, T):
    X, A1, Y = cache
    local = Y * (1 - Y)
    Y -= np.asarray(T)
    dZ2 = Y / Y.shape[0] * local
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid_backward(A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}
""", ["train"]),
    mistake("backward forgets the hidden layer's sigmoid derivative", "mlp", "backward", """
def backward(params, cache, T):
    X, A1, Y = cache
    dZ2 = (Y - np.asarray(T)) / Y.shape[0] * sigmoid_backward(Y)
    dZ1 = dZ2 @ params["W2"].T
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}
""", ["train"]),
    mistake("backward keeps the summed axis of the biases", "mlp", "backward", """
def backward(params, cache, T):
    X, A1, Y = cache
    dZ2 = (Y - np.asarray(T)) / Y.shape[0] * sigmoid_backward(Y)
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid_backward(A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0, keepdims=True), "W2": A1.T @ dZ2,
            "b2": dZ2.sum(axis=0, keepdims=True)}
""", ["train"]),
    mistake("train updates the caller's arrays in place", "mlp", "train", """
def train(X, T, params, epochs, lr):
    X, T = np.asarray(X, dtype=np.float64), np.asarray(T, dtype=np.float64)
    losses = np.empty(epochs)
    for epoch in range(epochs):
        Y, cache = forward(X, params)
        losses[epoch] = loss(Y, T)
        grads = backward(params, cache, T)
        for name in PARAM_NAMES:
            params[name] -= lr * grads[name]
    return params, losses
"""),
    mistake("train does not apply the learning rate to the biases", "mlp", "train", """
def train(X, T, params, epochs, lr):
    X, T = np.asarray(X, dtype=np.float64), np.asarray(T, dtype=np.float64)
    params = {name: np.array(params[name], dtype=np.float64) for name in PARAM_NAMES}
    losses = np.empty(epochs)
    for epoch in range(epochs):
        Y, cache = forward(X, params)
        losses[epoch] = loss(Y, T)
        grads = backward(params, cache, T)
        params = {name: params[name] - (lr if name.startswith("W") else 1.0) * grads[name] for name in PARAM_NAMES}
    return params, losses
"""),
    # ------------------------------------------------------------ perceptron
    mistake("step returns floats", "perceptron", "step", """
def step(z):
    return (np.asarray(z) > 0).astype(float)
""", ["perceptron_fit", "perceptron_predict"]),
    mistake("step returns booleans", "perceptron", "step", """
def step(z):
    return np.asarray(z) > 0
""", ["perceptron_fit", "perceptron_predict"]),
    mistake("perceptron_fit shuffles X and y in place", "perceptron", "perceptron_fit", """
def perceptron_fit(X, y, epochs=50, lr=0.2):
    w = np.zeros(np.shape(X)[1])
    b = 0.0
    for _ in range(epochs):
        order = np.random.default_rng(0).permutation(len(X))
        X[:] = X[order]
        y[:] = y[order]
        for x_i, y_i in zip(X, y):
            err = y_i - step(x_i @ w + b)
            w = w + lr * err * x_i
            b = b + lr * err
    return w, float(b)
"""),
    mistake("perceptron_fit updates the bias without the learning rate", "perceptron", "perceptron_fit", """
def perceptron_fit(X, y, epochs=50, lr=0.2):
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            err = y_i - step(x_i @ w + b)
            w = w + lr * err * x_i
            b = b + err
    return w, float(b)
"""),
    mistake("perceptron_predict returns signs", "perceptron", "perceptron_predict", """
def perceptron_predict(X, w, b):
    return np.sign(np.asarray(X) @ np.asarray(w) + b).astype(np.int64)
"""),
    # ------------------------------------------------------------ initializers
    mistake("he_normal draws float32", "initializers", "he_normal", """
def he_normal(shape, rng):
    fan_in, fan_out = _fans(shape)
    return rng.standard_normal((fan_in, fan_out), dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
"""),
    mistake("xavier_uniform forgets fan_out", "initializers", "xavier_uniform", """
def xavier_uniform(shape, rng):
    fan_in, fan_out = _fans(shape)
    a = np.sqrt(6.0 / fan_in)
    return rng.uniform(-a, a, size=(fan_in, fan_out))
"""),
    mistake("lecun_normal draws from NumPy's global generator", "initializers", "lecun_normal", """
def lecun_normal(shape, rng):
    fan_in, fan_out = _fans(shape)
    return np.random.normal(0.0, np.sqrt(1.0 / fan_in), size=(fan_in, fan_out))
"""),
    mistake("he_uniform returns the transposed shape", "initializers", "he_uniform", """
def he_uniform(shape, rng):
    fan_in, fan_out = _fans(shape)
    a = np.sqrt(6.0 / fan_in)
    return rng.uniform(-a, a, size=(fan_out, fan_in))
"""),
    mistake("xavier_normal forgets the factor 2", "initializers", "xavier_normal", """
def xavier_normal(shape, rng):
    fan_in, fan_out = _fans(shape)
    return rng.normal(0.0, np.sqrt(1.0 / (fan_in + fan_out)), size=(fan_in, fan_out))
"""),
    # ------------------------------------------------------------ dropout
    mistake("dropout_forward scales x in place", "dropout", "dropout_forward", """
def dropout_forward(x, p, train=True, rng=None):
    if not train or p == 0:
        return x.copy(), np.ones_like(x)
    rng = rng or np.random.default_rng()
    mask = (rng.random(x.shape) >= p) * (0.0 if p == 1 else 1.0 / (1.0 - p))
    mask = mask.astype(x.dtype)
    x *= mask
    return x, mask
"""),
    mistake("dropout_backward overwrites dout", "dropout", "dropout_backward", """
def dropout_backward(dout, mask):
    dout *= mask
    return dout
"""),
    mistake("l2_penalty squares the sum", "dropout", "l2_penalty", """
def l2_penalty(weights, lam):
    return float(lam / 2 * sum(np.sum(w) ** 2 for w in weights))
"""),
    mistake("l1_grad divides by |w|", "dropout", "l1_grad", """
def l1_grad(w, lam):
    w = np.asarray(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        return lam * w / np.abs(w)
"""),
    mistake("l2_grad widens float32 to float64", "dropout", "l2_grad", """
def l2_grad(w, lam):
    return lam * np.asarray(w, dtype=np.float64)
"""),
    # ------------------------------------------------------------ optimizers
    mistake("minibatches shuffles the caller's X and y", "optimizers", "minibatches", """
def minibatches(X, y, batch_size, rng=None):
    n = len(X)
    if rng is not None:
        order = rng.permutation(n)
        X[:] = X[order]
        y[:] = y[order]
    for start in range(0, n, batch_size):
        yield X[start:start + batch_size].copy(), y[start:start + batch_size].copy()
"""),
    mistake("Adam ignores eps", "optimizers", "Adam", """
_Adam = Adam
class Adam(_Adam):
    def __init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(lr, betas, 0.0, weight_decay)
"""),
    mistake("SGD ignores weight_decay", "optimizers", "SGD", """
_SGD = SGD
class SGD(_SGD):
    def __init__(self, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(lr, momentum, nesterov, 0.0)
"""),
    mistake("RMSProp ignores weight_decay", "optimizers", "RMSProp", """
_RMSProp = RMSProp
class RMSProp(_RMSProp):
    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(lr, alpha, eps, 0.0)
"""),
    mistake("Adagrad with the default lr of 0.1", "optimizers", "Adagrad", """
_Adagrad = Adagrad
class Adagrad(_Adagrad):
    def __init__(self, lr=0.1, eps=1e-10, weight_decay=0.0):
        super().__init__(lr, eps, weight_decay)
"""),
]

STYLES = [
    *[style(f"{fixture} fixture: {a}", a, fixture=fixture)
      for fixture in ("loops", "vectorized", "float32")
      for a in ("perceptron", "mlp", "initializers", "optimizers", "dropout", "losses", "activations")],
    style("in-place work on copies", "activations", """
def relu(z):
    out = np.array(z, copy=True)
    out[out < 0] = 0
    return out

def tanh_backward(dout, z):
    grad = np.array(dout, copy=True)
    grad *= 1 - np.tanh(z) ** 2
    return grad
"""),
    style("in-place work on copies", "losses", """
def softmax(z, axis=-1):
    out = np.array(_as_float(z), copy=True)
    out -= out.max(axis=axis, keepdims=True)
    np.exp(out, out=out)
    out /= out.sum(axis=axis, keepdims=True)
    return out
"""),
    style("in-place work on copies", "mlp", """
def train(X, T, params, epochs, lr):
    X, T = np.asarray(X, dtype=np.float64), np.asarray(T, dtype=np.float64)
    theta = {name: np.array(params[name], dtype=np.float64, copy=True) for name in PARAM_NAMES}
    losses = np.zeros(epochs)
    for epoch in range(epochs):
        Y, cache = forward(X, theta)
        losses[epoch] = loss(Y, T)
        grads = backward(theta, cache, T)
        for name in PARAM_NAMES:
            theta[name] -= lr * grads[name]
    return theta, losses
"""),
    style("different names for the arguments", "activations", """
def leaky_relu(x, negative_slope=0.01):
    x = _as_float(x)
    return np.where(x > 0, x, negative_slope * x).astype(x.dtype, copy=False)

def relu_backward(upstream, pre_activation):
    return np.where(np.asarray(pre_activation) > 0, upstream, 0).astype(np.asarray(upstream).dtype, copy=False)
"""),
    style("different names for the arguments", "dropout", """
def dropout_backward(grad_output, keep_mask):
    return grad_output * keep_mask
"""),
    style("notebook with magics", "mlp", notebook=True),
    style("notebook with magics", "losses", notebook=True),
]
