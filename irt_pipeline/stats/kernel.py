"""Fused numba log-density and gradient of the 2PL IRT models.

The likelihood is the hot loop: one pass over the dense (legislator x roll call) vote
matrix computing, per observed vote, eta = beta_j * xi_i - alpha_j, the Bernoulli-logit
log-probability and its three partial derivatives. Missing cells carry weight 0.

`exp` and `log1p` are written as branch-free polynomials so LLVM vectorizes the loop
(AVX2, 4 doubles per instruction); libm's scalar calls made the loop ~2.7x slower here.
Both agree with libm to a few ulp (see irt_pipeline_tests/test_kernel.py), and the
whole log-density matches the PyMC graph of the same model to ~1e-12 relative.

Every function takes its data as arguments (no globals), so `cache=True` stores the
machine code on disk once and every later partition and process reuses it.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_JIT = dict(fastmath=True, error_model="numpy", nogil=True, cache=True)

_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LN2 = 0.6931471805599453
_SQRT2_M1 = 0.41421356237309503
LOG_2PI = math.log(2.0 * math.pi)


@intrinsic
def _int64_bits_as_float64(typingctx, bits):
    """Reinterpret the bits of an int64 as a float64 (LLVM bitcast, vectorizable)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@numba.njit(inline="always", **_JIT)
def exp_nonpositive(x):
    """exp(x) for x <= 0 (values below -700 are clamped; exp(-700) ~ 1e-304)."""
    x = max(x, -700.0)
    k = math.floor(-x * _INV_LN2 + 0.5)  # x = -k ln2 + r, |r| <= ln2 / 2
    r = x + k * _LN2_HI + k * _LN2_LO
    # Taylor series of exp(r) to r^13 / 13!: truncation error < 1e-17 on |r| <= ln2/2.
    p = 1.6059043836821613e-10
    p = p * r + 2.08767569878680989792e-09
    p = p * r + 2.50521083854417187751e-08
    p = p * r + 2.75573192239858906526e-07
    p = p * r + 2.75573192239858906526e-06
    p = p * r + 2.48015873015873015873e-05
    p = p * r + 1.98412698412698412698e-04
    p = p * r + 1.38888888888888888889e-03
    p = p * r + 8.33333333333333333333e-03
    p = p * r + 4.16666666666666666667e-02
    p = p * r + 1.66666666666666666667e-01
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    return p * _int64_bits_as_float64((1023 - np.int64(k)) << 52)  # times 2^-k


@numba.njit(inline="always", **_JIT)
def log1p_unit(t):
    """log(1 + t) for t in [0, 1], via 2 atanh(z) with |z| <= 0.1716."""
    big = t > _SQRT2_M1  # then log(1+t) = ln2 + log((1+t)/2)
    num = t - 1.0 if big else t
    den = t + 3.0 if big else t + 2.0
    z = num / den
    z2 = z * z
    p = 1.0 / 21.0
    p = p * z2 + 1.0 / 19.0
    p = p * z2 + 1.0 / 17.0
    p = p * z2 + 1.0 / 15.0
    p = p * z2 + 1.0 / 13.0
    p = p * z2 + 1.0 / 11.0
    p = p * z2 + 1.0 / 9.0
    p = p * z2 + 1.0 / 7.0
    p = p * z2 + 1.0 / 5.0
    p = p * z2 + 1.0 / 3.0
    p = p * z2 + 1.0
    res = 2.0 * z * p
    return res + _LN2 if big else res


@numba.njit(**_JIT)
def twopl_loglik(votes, xi, alpha, beta, grad_xi, grad_alpha, grad_beta):
    """Bernoulli-logit 2PL log-likelihood; adds its gradient into the grad_* arrays.

    votes: (n_legislators, n_roll_calls) float64, +1 Yea, -1 Nay, 0 missing.
    xi: (n_legislators,), alpha, beta: (n_roll_calls,). logit P(Yea) = beta_j xi_i - alpha_j.
    """
    n, m = votes.shape
    total = 0.0
    for i in range(n):
        xi_i = xi[i]
        g_i = 0.0
        for j in range(m):
            s = votes[i, j]
            w = s * s
            y = 0.5 * (s + 1.0)
            eta = beta[j] * xi_i - alpha[j]
            t = exp_nonpositive(-abs(eta))
            q = 1.0 / (1.0 + t)
            p_yea = q if eta >= 0.0 else t * q
            total += w * (y * eta - max(eta, 0.0) - log1p_unit(t))
            d = w * (y - p_yea)
            g_i += d * beta[j]
            grad_beta[j] += d * xi_i
            grad_alpha[j] -= d
        grad_xi[i] += g_i
    return total


@numba.njit(inline="always", **_JIT)
def _normal_logp(x, mu, sigma, log_sigma):
    z = (x - mu) / sigma
    return -0.5 * z * z - log_sigma - 0.5 * LOG_2PI


@numba.njit(**_JIT)
def hierarchical_logp_grad(x, grad, votes, group, centering):
    """Log-density of the hierarchical 2PL model in the sampler's coordinates, and its
    gradient (see `irt_pipeline.stats.model` for the model and the coordinates).

    x: (n + 2 + 2m,) unconstrained point (z, log s, alpha, beta); grad: same
    shape, overwritten. votes: (n, m) float64, +1 Yea, -1 Nay, 0 missing. group: (n,)
    int64, 0 Democrat, 1 Republican, 2 other. centering: (2,) float64, w per party.
    Returns the log-density with every normalizing constant, equal to
    `build_hierarchical_model`'s.
    """
    n, m = votes.shape
    z = x[:n]
    log_s = x[n : n + 2]
    alpha = x[n + 2 : n + 2 + m]
    beta = x[n + 2 + m : n + 2 + 2 * m]
    s = np.exp(log_s)
    log2 = math.log(2.0)

    size = np.zeros(2)
    for i in range(n):
        if group[i] < 2:
            size[group[i]] += 1.0
    n_other = n - size[0] - size[1]
    scale_w = np.empty(2)  # s_g ** w_g
    for g in range(2):
        scale_w[g] = math.exp(centering[g] * log_s[g])

    # Anchored positions v and the standardized ideal points xi = (v - c) / d.
    v = np.empty(n)
    for i in range(n):
        g = group[i]
        v[i] = (2.0 * g - 1.0) + scale_w[g] * z[i] if g < 2 else z[i]
    c = 0.0
    for i in range(n):
        c += v[i]
    c /= n
    ss = 0.0
    for i in range(n):
        ss += (v[i] - c) ** 2
    d = math.sqrt(ss / n)
    xi = (v - c) / d

    grad_v = np.zeros(n)
    grad_xi = np.zeros(n)
    grad_log_s = np.zeros(2)
    grad_c = 0.0
    grad_d = 0.0
    grad_alpha = grad[n + 2 : n + 2 + m]
    grad_beta = grad[n + 2 + m : n + 2 + 2 * m]

    # mu_g = (anchor_g - c) / d ~ N(0, 2); sigma_g = s_g / d ~ HalfNormal(1).
    lp = 0.0
    for g in range(2):
        mu = ((2.0 * g - 1.0) - c) / d
        lp += _normal_logp(mu, 0.0, 2.0, log2)
        grad_c += mu / 4.0 / d
        grad_d += mu * mu / 4.0 / d
        sigma = s[g] / d
        lp += log2 - 0.5 * LOG_2PI - 0.5 * sigma * sigma
        grad_d += sigma * sigma / d
        grad_log_s[g] -= sigma * sigma

    # Ideal points. Major parties: N(xi; mu_g, sigma_g) = N(v; anchor_g, s_g) d, the d
    # folded into the Jacobian term below. Others: N(xi; 0, 2).
    for i in range(n):
        g = group[i]
        if g < 2:
            e = (v[i] - (2.0 * g - 1.0)) / s[g]
            lp += -0.5 * e * e - log_s[g] - 0.5 * LOG_2PI
            grad_v[i] -= e / s[g]
            grad_log_s[g] += e * e - 1.0
        else:
            lp += _normal_logp(xi[i], 0.0, 2.0, log2)
            grad_xi[i] -= xi[i] / 4.0

    # Log-Jacobian (2/n) d^-(n+3) prod s_g^(w_g n_g + 1), plus the n_major log d above.
    lp += math.log(2.0 / n) - (n_other + 3.0) * math.log(d)
    grad_d -= (n_other + 3.0) / d
    for g in range(2):
        lp += (centering[g] * size[g] + 1.0) * log_s[g]
        grad_log_s[g] += centering[g] * size[g] + 1.0

    # Roll calls: alpha ~ N(0, 5), beta ~ N(0, 1).
    for j in range(m):
        lp += _normal_logp(alpha[j], 0.0, 5.0, math.log(5.0)) + _normal_logp(beta[j], 0.0, 1.0, 0.0)
        grad_alpha[j] = -alpha[j] / 25.0
        grad_beta[j] = -beta[j]

    lp += twopl_loglik(votes, xi, alpha, beta, grad_xi, grad_alpha, grad_beta)

    # Chain rule through xi = (v - c) / d, with c and d functions of v.
    g_mean = 0.0
    g_dot = 0.0
    for i in range(n):
        g_mean += grad_xi[i]
        g_dot += grad_xi[i] * xi[i]
    g_mean /= n
    g_dot /= n
    for i in range(n):
        grad_v[i] += (grad_xi[i] - g_mean - xi[i] * g_dot) / d + (grad_c + grad_d * xi[i]) / n

    # Chain rule through v = anchor + s^w z.
    for i in range(n):
        g = group[i]
        if g < 2:
            grad[i] = grad_v[i] * scale_w[g]
            grad_log_s[g] += grad_v[i] * centering[g] * (v[i] - (2.0 * g - 1.0))
        else:
            grad[i] = grad_v[i]
    grad[n] = grad_log_s[0]
    grad[n + 1] = grad_log_s[1]
    return lp


@numba.njit(**_JIT)
def flat_logp_grad(x, grad, votes, free, anchors, anchor_values):
    """Log-density of the flat 2PL model (see `irt_pipeline.stats.flat_model`) and its
    gradient.

    x: (n - a + 2m,) unconstrained point (free ideal points, alpha, beta); grad: same
    shape, overwritten. votes: (n, m) float64, +1 Yea, -1 Nay, 0 missing. free: (n - a,)
    int64 rows of the free legislators, in x's order; anchors: (a,) int64 rows held at
    anchor_values (a,) float64. Priors xi ~ N(0, 1) (free legislators), alpha ~ N(0, 5),
    beta ~ N(0, 1). Returns the log-density with every normalizing constant, equal to
    `build_flat_model`'s.
    """
    n, m = votes.shape
    k = free.shape[0]
    xi = np.empty(n)
    for a in range(anchors.shape[0]):
        xi[anchors[a]] = anchor_values[a]
    lp = 0.0
    for f in range(k):
        xi[free[f]] = x[f]
        lp += _normal_logp(x[f], 0.0, 1.0, 0.0)
    alpha = x[k : k + m]
    beta = x[k + m : k + 2 * m]
    grad_alpha = grad[k : k + m]
    grad_beta = grad[k + m : k + 2 * m]
    log5 = math.log(5.0)
    for j in range(m):
        lp += _normal_logp(alpha[j], 0.0, 5.0, log5) + _normal_logp(beta[j], 0.0, 1.0, 0.0)
        grad_alpha[j] = -alpha[j] / 25.0
        grad_beta[j] = -beta[j]
    grad_xi = np.zeros(n)
    lp += twopl_loglik(votes, xi, alpha, beta, grad_xi, grad_alpha, grad_beta)
    for f in range(k):
        grad[f] = grad_xi[free[f]] - x[f]
    return lp
