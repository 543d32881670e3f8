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
    """Log-density of the identified hierarchical 2PL model and its gradient.

    Unconstrained layout of x (n legislators, m roll calls):
      x[0:n]          z; xi_raw_i = w mu_g + sigma_g^w z_i (g = party of i, w = centering[g];
                      legislators outside both parties: xi_raw_i = z_i);
                      xi = (xi_raw - mean) / sd, the identified ideal points
      x[n], x[n+1]    mu_party ordered transform: mu_D = x[n], mu_R = mu_D + exp(x[n+1])
      x[n+2], x[n+3]  log sigma_party (Democrat, Republican)
      x[n+4:n+4+m]    alpha;  x[n+4+m:n+4+2m]  beta
    group: (n,) int64, 0 Democrat, 1 Republican, 2 outside both (prior N(0, 1)).
    centering: (2,) float64 in [0, 1] per party: 0 is the centered form (z = xi_raw),
    1 the non-centered one. Every w gives the same model (the Jacobian is included);
    only the sampler's geometry changes.
    Writes the gradient into `grad` (same shape as x) and returns the log-density,
    normalizing constants included.
    """
    n, m = votes.shape
    z = x[:n]
    mu = np.empty(2)
    mu[0] = x[n]
    gap = math.exp(x[n + 1])
    mu[1] = mu[0] + gap
    log_sigma = x[n + 2 : n + 4]
    sigma = np.exp(log_sigma)
    alpha = x[n + 4 : n + 4 + m]
    beta = x[n + 4 + m : n + 4 + 2 * m]
    scale_w = np.empty(2)  # sigma_g ** w_g
    for g in range(2):
        scale_w[g] = math.exp(centering[g] * log_sigma[g])

    raw = np.empty(n)
    for i in range(n):
        g = group[i]
        raw[i] = centering[g] * mu[g] + scale_w[g] * z[i] if g < 2 else z[i]
    mean = 0.0
    for i in range(n):
        mean += raw[i]
    mean /= n
    ss = 0.0
    for i in range(n):
        ss += (raw[i] - mean) ** 2
    scale = math.sqrt(ss / n)
    xi = (raw - mean) / scale

    grad_xi = np.zeros(n)
    grad_raw = np.empty(n)
    grad_mu = np.zeros(2)
    grad_log_sigma = np.zeros(2)
    grad_alpha = grad[n + 4 : n + 4 + m]
    grad_beta = grad[n + 4 + m : n + 4 + 2 * m]

    # Gauge prior xi_raw ~ N(0, 1): pins the location and scale of xi_raw only; the
    # ideal points xi are invariant to both, so it leaves their posterior unchanged.
    lp = 0.0
    for i in range(n):
        lp += -0.5 * raw[i] * raw[i] - 0.5 * LOG_2PI
        grad_raw[i] = -raw[i]

    # Party hierarchy on the identified scale.
    for i in range(n):
        g = group[i]
        if g < 2:
            zz = (xi[i] - mu[g]) / sigma[g]
            lp += -0.5 * zz * zz - log_sigma[g] - 0.5 * LOG_2PI
            grad_xi[i] -= zz / sigma[g]
            grad_mu[g] += zz / sigma[g]
            grad_log_sigma[g] += zz * zz - 1.0
        else:
            lp += -0.5 * xi[i] * xi[i] - 0.5 * LOG_2PI
            grad_xi[i] -= xi[i]

    # mu_party ~ N(0, 2), ordered: log-Jacobian of the transform is x[n+1].
    for g in range(2):
        lp += _normal_logp(mu[g], 0.0, 2.0, math.log(2.0))
        grad_mu[g] -= mu[g] / 4.0
    lp += x[n + 1]

    # sigma_party ~ HalfNormal(1), log transform: log-Jacobian log sigma.
    for g in range(2):
        lp += math.log(2.0) - 0.5 * LOG_2PI - 0.5 * sigma[g] * sigma[g] + log_sigma[g]
        grad_log_sigma[g] += 1.0 - sigma[g] * sigma[g]

    # alpha ~ N(0, 5), beta ~ N(0, 1).
    for j in range(m):
        lp += _normal_logp(alpha[j], 0.0, 5.0, math.log(5.0))
        lp += _normal_logp(beta[j], 0.0, 1.0, 0.0)
        grad_alpha[j] = -alpha[j] / 25.0
        grad_beta[j] = -beta[j]

    lp += twopl_loglik(votes, xi, alpha, beta, grad_xi, grad_alpha, grad_beta)

    # Chain rule through the standardization xi = (xi_raw - mean) / scale.
    g_mean = 0.0
    g_dot = 0.0
    for i in range(n):
        g_mean += grad_xi[i]
        g_dot += grad_xi[i] * xi[i]
    g_mean /= n
    g_dot /= n
    for i in range(n):
        grad_raw[i] += (grad_xi[i] - g_mean - xi[i] * g_dot) / scale

    # Chain rule through xi_raw = w mu + sigma^w z, and its log-Jacobian sum w log sigma.
    for i in range(n):
        g = group[i]
        if g < 2:
            grad[i] = grad_raw[i] * scale_w[g]
            grad_mu[g] += centering[g] * grad_raw[i]
            grad_log_sigma[g] += grad_raw[i] * centering[g] * scale_w[g] * z[i]
            lp += centering[g] * log_sigma[g]
            grad_log_sigma[g] += centering[g]
        else:
            grad[i] = grad_raw[i]
    grad[n] = grad_mu[0] + grad_mu[1]
    grad[n + 1] = grad_mu[1] * gap + 1.0
    grad[n + 2] = grad_log_sigma[0]
    grad[n + 3] = grad_log_sigma[1]
    return lp
