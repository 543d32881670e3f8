"""numba building blocks shared by the models' log-densities (`stats/models/`).

The likelihood is the hot loop: one pass over the dense (legislator x roll call) vote
matrix computing, per vote, eta = beta_j * xi_i - alpha_j, the Bernoulli-logit
log-probability and its partial derivatives. Missing cells carry weight 0.

The loop runs in single precision (float32 votes, float32 arithmetic: 16 lanes per
AVX-512 instruction, 8 per AVX2 one): about 3x fewer seconds per gradient than the same
loop in double precision on the 117th Senate and House (bench/RESULTS.md). Partial sums
leave single precision every `FLUSH_ROWS` rows (and the log-likelihood every row), so the
error does not grow with the chamber: the log-density is within ~1e-8 of the
double-precision value relative to its size and every gradient component within ~1e-5 of
(1 + its size) (irt_pipeline_tests/test_kernel.py). The result is a deterministic
function of the point, so the sampler's stationary distribution is exactly the density
exp(delta(x)) times the double-precision one, with delta nearly constant (it varies by a
few 1e-3 across a posterior's width on a House): a posterior mean moves by about that
fraction of its posterior sd, far below Monte Carlo error.

`exp` and `log1p` are written as branch-free polynomials so LLVM vectorizes the loop;
libm's scalar calls made the loop ~2.7x slower here. The double-precision versions
agree with libm to a few ulp, the single-precision ones to ~2e-7 relative.

Every function takes its data as arguments (no globals), so the machine code is cached
on disk once (`stats/jit.py`) and every later partition and process reuses it.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import float32 as f32
from numba import types
from numba.extending import intrinsic, overload

from irt_pipeline.stats.jit import JIT_OPTIONS, njit

_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LN2 = 0.6931471805599453
_SQRT2_M1 = 0.41421356237309503
FLUSH_ROWS = 64  # rows of single-precision partial sums before they are added in double
LOG_2PI = math.log(2.0 * math.pi)
LOG_2 = math.log(2.0)


@intrinsic
def _bits_as_float(typingctx, bits):
    """Reinterpret the bits of an int64 as a float64, or of an int32 as a float32 (LLVM
    bitcast, vectorizable). numba types integer arithmetic as int64, so a float32's bits
    must be narrowed with np.int32(...) first."""
    widths = {types.int64: (types.float64, ir.DoubleType()), types.int32: (types.float32, ir.FloatType())}
    if bits not in widths:
        return None
    result, llvm_type = widths[bits]

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_type)

    return result(bits), codegen


@njit(inline="always")
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
    return p * _bits_as_float((1023 - np.int64(k)) << 52)  # times 2^-k


@njit(inline="always")
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


@njit(inline="always")
def exp_nonpositive32(x):
    """exp(x) in float32 for float32 x <= 0 (values below -87 clamped: exp(-87) ~ 1.6e-38,
    still a normal float32). Cephes' expf: x = -k ln2 + r, |r| <= ln2 / 2, degree-7
    polynomial; ~1 ulp."""
    x = max(x, f32(-87.0))
    k = np.floor(x * f32(-_INV_LN2) + f32(0.5))
    r = x + k * f32(0.693359375) + k * f32(-2.12194440e-4)  # ln2 in two parts
    p = f32(1.9875691500e-4)
    p = p * r + f32(1.3981999507e-3)
    p = p * r + f32(8.3334519073e-3)
    p = p * r + f32(4.1665795894e-2)
    p = p * r + f32(1.6666665459e-1)
    p = p * r + f32(5.0000001201e-1)
    p = p * r * r + r + f32(1.0)
    return p * _bits_as_float(np.int32((127 - np.int64(k)) << 23))  # times 2^-k


@njit(inline="always")
def log1p_unit32(t):
    """log(1 + t) in float32 for float32 t in [0, 1], via 2 atanh(z), |z| <= 0.1716."""
    big = t > f32(_SQRT2_M1)  # then log(1+t) = ln2 + log((1+t)/2)
    num = t - f32(1.0) if big else t
    den = t + f32(3.0) if big else t + f32(2.0)
    z = num / den
    z2 = z * z
    p = f32(1.0 / 9.0)
    p = p * z2 + f32(1.0 / 7.0)
    p = p * z2 + f32(1.0 / 5.0)
    p = p * z2 + f32(1.0 / 3.0)
    p = p * z2 + f32(1.0)
    res = f32(2.0) * z * p
    return res + f32(_LN2) if big else res


def twopl_loglik(votes, xi, alpha, beta, grad_xi, grad_alpha, grad_beta):
    """Bernoulli-logit 2PL log-likelihood; adds its gradient into the grad_* arrays.

    votes: (n_legislators, n_roll_calls), C order, +1 Yea, -1 Nay, 0 missing: float32
    (what the sampler's callbacks pass: the single-precision loop) or float64 (the
    double-precision loop, the reference the single one is tested against).
    xi, grad_xi: (n_legislators,) float64; alpha, beta, grad_alpha, grad_beta:
    (n_roll_calls,) float64. logit P(Yea) = beta_j xi_i - alpha_j.

    Per vote, with s its sign and e = s eta the logit of the side voted:
    log P = min(e, 0) - log1p(exp(-|e|)) and d log P / d eta = s sigmoid(-e).
    Callable from Python and, by the votes' dtype, from numba code (`_twopl_typed`).
    """
    loop = _twopl_single if votes.dtype == np.float32 else _twopl_double
    return loop(votes, xi, alpha, beta, grad_xi, grad_alpha, grad_beta)


@overload(twopl_loglik, jit_options=JIT_OPTIONS)
def _twopl_typed(votes, xi, alpha, beta, grad_xi, grad_alpha, grad_beta):
    loop = _twopl_single if votes.dtype == types.float32 else _twopl_double
    return lambda votes, xi, alpha, beta, grad_xi, grad_alpha, grad_beta: loop(
        votes, xi, alpha, beta, grad_xi, grad_alpha, grad_beta
    )


@njit
def _twopl_double(votes, xi, alpha, beta, grad_xi, grad_alpha, grad_beta):
    """`twopl_loglik` in double precision (float64 votes)."""
    n, m = votes.shape
    total = 0.0
    for i in range(n):
        xi_i = xi[i]
        g_i = 0.0
        for j in range(m):
            s = votes[i, j]
            eta = beta[j] * xi_i - alpha[j]
            e = s * eta
            t = exp_nonpositive(-abs(eta))
            q = 1.0 / (1.0 + t)  # sigmoid(|eta|); t q = sigmoid(-|eta|)
            total += abs(s) * (min(e, 0.0) - log1p_unit(t))
            d = s * (t * q if e >= 0.0 else q)
            g_i += d * beta[j]
            grad_beta[j] += d * xi_i
            grad_alpha[j] -= d
        grad_xi[i] += g_i
    return total


@njit
def _twopl_single(votes, xi, alpha, beta, grad_xi, grad_alpha, grad_beta):
    """`twopl_loglik` in single precision (float32 votes): the same loop in float32,
    its partial sums added in double every row (the log-likelihood) and every
    FLUSH_ROWS rows (the roll calls' gradient)."""
    n, m = votes.shape
    alpha32 = alpha.astype(np.float32)
    beta32 = beta.astype(np.float32)
    g_alpha = np.zeros(m, np.float32)
    g_beta = np.zeros(m, np.float32)
    total = 0.0
    for i in range(n):
        xi_i = f32(xi[i])
        g_i = f32(0.0)
        row = f32(0.0)
        for j in range(m):
            s = votes[i, j]
            eta = beta32[j] * xi_i - alpha32[j]
            e = s * eta
            t = exp_nonpositive32(-abs(eta))
            q = f32(1.0) / (f32(1.0) + t)
            row += abs(s) * (min(e, f32(0.0)) - log1p_unit32(t))
            d = s * (t * q if e >= f32(0.0) else q)
            g_i += d * beta32[j]
            g_beta[j] += d * xi_i
            g_alpha[j] -= d
        grad_xi[i] += g_i
        total += row
        if i % FLUSH_ROWS == FLUSH_ROWS - 1 or i == n - 1:
            for j in range(m):
                grad_alpha[j] += g_alpha[j]
                grad_beta[j] += g_beta[j]
                g_alpha[j] = 0.0
                g_beta[j] = 0.0
    return total


@njit
def twopl2_loglik(votes, x1, x2, alpha, beta1, beta2, grad_x1, grad_x2, grad_alpha, grad_beta1, grad_beta2):
    """Two-dimensional Bernoulli-logit 2PL log-likelihood (the loop of `twopl_loglik`
    with eta = beta1_j x1_i + beta2_j x2_i - alpha_j); adds its gradient into the grad_*
    arrays.

    votes: (n_legislators, n_roll_calls) float32 or float64, +1 Yea, -1 Nay, 0 missing. x1, x2:
    (n_legislators,) positions on each dimension; alpha, beta1, beta2: (n_roll_calls,).
    """
    n, m = votes.shape
    total = 0.0
    for i in range(n):
        x1_i = x1[i]
        x2_i = x2[i]
        g1_i = 0.0
        g2_i = 0.0
        for j in range(m):
            s = votes[i, j]
            w = s * s
            y = 0.5 * (s + 1.0)
            eta = beta1[j] * x1_i + beta2[j] * x2_i - alpha[j]
            t = exp_nonpositive(-abs(eta))
            q = 1.0 / (1.0 + t)
            p_yea = q if eta >= 0.0 else t * q
            total += w * (y * eta - max(eta, 0.0) - log1p_unit(t))
            d = w * (y - p_yea)
            g1_i += d * beta1[j]
            g2_i += d * beta2[j]
            grad_beta1[j] += d * x1_i
            grad_beta2[j] += d * x2_i
            grad_alpha[j] -= d
        grad_x1[i] += g1_i
        grad_x2[i] += g2_i
    return total


@njit(inline="always")
def normal_logp(x, mu, sigma):
    """log N(x; mu, sigma) with its constant."""
    z = (x - mu) / sigma
    return -0.5 * z * z - math.log(sigma) - 0.5 * LOG_2PI


@njit(inline="always")
def halfnormal_logp(x, sigma):
    """log HalfNormal(x; sigma) for x >= 0, with its constant."""
    z = x / sigma
    return LOG_2 - 0.5 * z * z - math.log(sigma) - 0.5 * LOG_2PI


@njit(inline="always")
def gamma_logp(x, shape, rate):
    """log Gamma(x; shape, rate) for x > 0, with its constant."""
    return shape * math.log(rate) - math.lgamma(shape) + (shape - 1.0) * math.log(x) - rate * x


@njit
def items_logp(alpha, log_tau, beta, grad_alpha, grad_beta, alpha_mu, alpha_sd, tau_sd):
    """Roll-call priors alpha_j ~ N(alpha_mu, alpha_sd), beta_j ~ N(0, tau), tau ~
    HalfNormal(tau_sd), sampled as log tau (its log-Jacobian included). Writes the
    gradient into grad_alpha and grad_beta (overwriting) and returns (log-density,
    d/d log tau)."""
    tau = math.exp(log_tau)
    m = alpha.shape[0]
    lp = halfnormal_logp(tau, tau_sd) + log_tau
    grad_log_tau = 1.0 - (tau / tau_sd) ** 2
    ss = 0.0
    for j in range(m):
        lp += normal_logp(alpha[j], alpha_mu, alpha_sd)
        grad_alpha[j] = -(alpha[j] - alpha_mu) / (alpha_sd * alpha_sd)
        ss += beta[j] * beta[j]
        grad_beta[j] = -beta[j] / (tau * tau)
    lp += -0.5 * ss / (tau * tau) - m * log_tau - 0.5 * m * LOG_2PI
    grad_log_tau += ss / (tau * tau) - m
    return lp, grad_log_tau


@njit
def standardize(v, out):
    """out = (v - mean v) / sd v (population sd); returns sd v. v, out: (n,)."""
    n = v.shape[0]
    c = 0.0
    for i in range(n):
        c += v[i]
    c /= n
    ss = 0.0
    for i in range(n):
        ss += (v[i] - c) ** 2
    d = math.sqrt(ss / n)
    for i in range(n):
        out[i] = (v[i] - c) / d
    return d


@njit
def standardize_backward(grad_xi, xi, d, grad_v):
    """Chain rule through xi = standardize(v) (see `standardize`, d = sd v): adds
    d(f)/dv to grad_v given grad_xi = d(f)/d(xi)."""
    n = xi.shape[0]
    g_mean = 0.0
    g_dot = 0.0
    for i in range(n):
        g_mean += grad_xi[i]
        g_dot += grad_xi[i] * xi[i]
    g_mean /= n
    g_dot /= n
    for i in range(n):
        grad_v[i] += (grad_xi[i] - g_mean - xi[i] * g_dot) / d
