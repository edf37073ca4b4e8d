"""Assignment 7: activation functions and their derivatives

Implement, in NumPy, three activations (tanh, ReLU, Leaky ReLU) and, for each, the backward
function that backpropagation needs: given the upstream gradient dL/da and the pre-activation z,
return dL/dz. Run this file (`python activations.py`) to see the examples at the bottom, and
check your work with `dlgrade check activations`.
"""

# %% [markdown]
# # Activations: the non-linearity of a neuron
#
# A neuron computes $z = \mathbf{w}\cdot\mathbf{x} + b$ and then $a = f(z)$. Without a non-linear
# $f$, a stack of layers collapses into a single linear map, however deep it is. The common choices:
#
# | activation | $f(z)$ | range | $f'(z)$ | notes |
# |---|---|---|---|---|
# | sigmoid | $\dfrac{1}{1+e^{-z}}$ | $(0, 1)$ | $f(z)\,(1-f(z)) \le \tfrac14$ | saturates; vanishing gradients |
# | tanh | $\dfrac{e^{z}-e^{-z}}{e^{z}+e^{-z}}$ | $(-1, 1)$ | $1 - f(z)^2 \le 1$ | zero-centred; still saturates |
# | ReLU | $\max(0, z)$ | $[0, \infty)$ | $1$ if $z>0$, else $0$ | cheap, no saturation for $z>0$; "dying ReLU" |
# | Leaky ReLU | $z$ if $z>0$, else $\alpha z$ | $\mathbb{R}$ | $1$ if $z>0$, else $\alpha$ | a small slope keeps negative units alive |
#
# **Sigmoid** squashes to $(0, 1)$, which reads as a probability (hence its place at the output of
# a binary classifier), but its derivative is at most $\tfrac14$ and almost 0 once $|z|$ is large.
# Backpropagation multiplies one such factor per layer, so in a deep sigmoid network the gradient
# reaching the first layers **vanishes**. Its outputs are also all positive, which biases the
# updates of the next layer's weights in one direction.
#
# **tanh** is a rescaled sigmoid, $\tanh(z) = 2\sigma(2z) - 1$: it is **zero-centred** and its
# derivative reaches 1 at $z = 0$, so it trains better than the sigmoid, but it saturates at
# $\pm 1$ just the same and the gradients still vanish for large $|z|$.
#
# **ReLU** does not saturate for $z > 0$ (the derivative is exactly 1) and costs one comparison,
# which is why deep networks train much faster with it. Its weakness: a unit whose $z$ is negative
# for every input has derivative 0 everywhere, receives no gradient, and never recovers: a
# **dying ReLU**. **Leaky ReLU** keeps a small slope $\alpha$ (0.01 by default) for $z < 0$ so
# that such units still learn.

# %% [markdown]
# ## The activation in backpropagation
#
# In the backward pass each layer receives the upstream gradient $\partial L/\partial a$ (called
# `dout`) and must pass on $\partial L/\partial z$. Since $a = f(z)$ acts elementwise, the chain
# rule is an elementwise product with the **local derivative evaluated at the pre-activation z**:
#
# $$\frac{\partial L}{\partial z} = \frac{\partial L}{\partial a} \odot f'(z).$$
#
# This is where vanishing gradients come from: every layer multiplies by $f'(z)$.
#
# **Kinks.** ReLU and Leaky ReLU have no derivative at exactly $z = 0$; a library must still
# pick a value. PyTorch's autograd (which we match) uses the $z \le 0$ branch there:
# ReLU's derivative at 0 is $0$, Leaky ReLU's is $\alpha$. In other words the test is strictly
# `z > 0` for both. The same holds for $z = -0.0$.
#
# **Stable tanh.** The textbook formula computes $e^{1000}$, which overflows to `inf`, and
# `inf / inf` is `nan`. Because $\tanh$ is odd, compute it on $|z|$ where only $e^{-2|z|} \le 1$
# appears, then put the sign back:
#
# $$\tanh(z) = \operatorname{sign}(z)\,\frac{1 - e^{-2|z|}}{1 + e^{-2|z|}}.$$
#
# `np.expm1(x)` $= e^x - 1$ keeps the numerator accurate when $z$ is tiny. (NumPy's own
# `np.tanh` does all of this for you; here you write it once yourself.)
#
# **Conventions.** Every function works elementwise on arrays of any shape; the output has the
# input's exact shape and float dtype. Accept float32 and float64 input; never modify your inputs.

# %%
import numpy as np


def _as_float(x):
    """``x`` as a NumPy array of a floating dtype (float32 stays float32; ints become float64)."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


# %%
def tanh(z):
    """The hyperbolic tangent, elementwise, computed without overflow.

    tanh(z) = (e^z - e^-z) / (e^z + e^-z) = sign(z) * (1 - e^(-2|z|)) / (1 + e^(-2|z|)).
    The second form only ever exponentiates a number <= 0, so tanh(+-1000) is exactly +-1 with
    no warning. Odd: tanh(-z) == -tanh(z); zero-centred, with values in [-1, 1].

    Args:
        z: ndarray of any shape (float32 or float64): the pre-activations.

    Returns:
        ndarray of the same shape and float dtype as ``z``. ``z`` is left unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def tanh_backward(dout, z):
    """dL/dz for a = tanh(z): the upstream gradient times the local derivative 1 - tanh(z)^2.

    The derivative is evaluated at the pre-activation ``z`` (recompute tanh(z)). It is 1 at
    z = 0 and tends to 0 as |z| grows: the saturation that makes gradients vanish.

    Args:
        dout: ndarray, dL/da, the same shape as ``z`` (float32 or float64).
        z: ndarray of any shape, the pre-activations of the forward pass.

    Returns:
        ndarray of the shape of ``z``: dout * (1 - tanh(z)**2). The inputs are left unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def relu(z):
    """The rectified linear unit, elementwise: max(0, z).

    Args:
        z: ndarray of any shape (float32 or float64).

    Returns:
        ndarray of the same shape and float dtype as ``z``: z where z > 0, else 0.
        ``z`` is left unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def relu_backward(dout, z):
    """dL/dz for a = relu(z): dout where z > 0, else 0.

    The local derivative is 1 for z > 0 and 0 for z < 0. At exactly z = 0 (and -0.0) it is 0,
    PyTorch's convention. A unit with z <= 0 passes no gradient back: the root of "dying ReLU".

    Args:
        dout: ndarray, dL/da, the same shape as ``z`` (float32 or float64).
        z: ndarray of any shape, the pre-activations of the forward pass.

    Returns:
        ndarray of the shape and float dtype of ``dout``. The inputs are left unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def leaky_relu(z, alpha=0.01):
    """The leaky rectified linear unit, elementwise: z where z > 0, else alpha * z.

    Args:
        z: ndarray of any shape (float32 or float64).
        alpha: the slope for negative inputs, a small positive float (default 0.01, as torch).

    Returns:
        ndarray of the same shape and float dtype as ``z``. ``z`` is left unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %%
def leaky_relu_backward(dout, z, alpha=0.01):
    """dL/dz for a = leaky_relu(z, alpha): dout where z > 0, else alpha * dout.

    The local derivative is 1 for z > 0 and alpha for z < 0. At exactly z = 0 (and -0.0) it is
    alpha, PyTorch's convention (the test is strictly z > 0, as for ReLU).

    Args:
        dout: ndarray, dL/da, the same shape as ``z`` (float32 or float64).
        z: ndarray of any shape, the pre-activations of the forward pass.
        alpha: the slope used in the forward pass (default 0.01).

    Returns:
        ndarray of the shape and float dtype of ``dout``. The inputs are left unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## Try it: saturation and the derivatives
#
# The local derivatives multiply the gradient in every layer. Compare how much of it survives.

# %% [example]
if __name__ == "__main__":
    z = np.array([-10.0, -2.0, -0.5, 0.0, 0.5, 2.0, 10.0])
    ones = np.ones_like(z)
    sigmoid = 1 / (1 + np.exp(-z))
    with np.printoptions(precision=4, suppress=True):
        print("z                 ", z)
        print("sigmoid'(z)       ", sigmoid * (1 - sigmoid))
        print("tanh'(z)          ", tanh_backward(ones, z))
        print("relu'(z)          ", relu_backward(ones, z))
        print("leaky_relu'(z)    ", leaky_relu_backward(ones, z))
    print("tanh(+-1000)      ", tanh(np.array([-1000.0, 1000.0])))

# %% [example]
if __name__ == "__main__":
    # Vanishing gradients: the best case of each activation's derivative, over 10 layers.
    print("10 sigmoid layers keep at most", 0.25 ** 10, "of the gradient; 10 ReLU layers (z > 0) keep", 1.0 ** 10)
    # Dying ReLU: a unit whose pre-activation is negative for every sample gets no gradient at all.
    z_dead = np.array([-3.0, -1.2, -0.4, -2.5])
    print("dead ReLU unit gradient:", relu_backward(np.ones(4), z_dead), "; leaky:", leaky_relu_backward(np.ones(4), z_dead))
