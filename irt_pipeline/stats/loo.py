"""PSIS-LOO of a 2PL posterior from votes, in bounded memory, and model comparison.

nutpie stores no log-likelihood, so the pointwise log-likelihood of every observed
vote, log P(y_ij | xi_i, alpha_j, beta_j) = y eta - log(1 + e^eta) with
eta = beta_j xi_i - alpha_j, is recomputed from the draws of xi, alpha and beta (any
scale: the likelihood is the same on every scale the models report). For the
two-dimensional model (a posterior with xi_2 and beta_2) positions and discriminations
carry a trailing axis of the two dimensions and eta = beta_j . xi_i - alpha_j.

Memory. The full (draws x observed votes) matrix is large (4 chains x 1000 draws x
87k votes of a Senate: 2.8 GB as float64, and ArviZ makes several copies). Two things
bound it:
- draws are thinned evenly within each chain to at most `max_draws` in all (default
  2000; PSIS needs a few hundred to a few thousand);
- PSIS smooths each vote's importance weights separately, so `az.loo` runs on chunks
  of votes (at most `CHUNK_VALUES` log-likelihood values, 64 MB, per chunk) and the
  chunks' pointwise results are joined into one ELPDData: elpd_loo and p_loo are sums
  over votes, se is sqrt(N var(loo_i)) as ArviZ computes it, the Pareto k's are
  concatenated. Every chunk uses the same relative efficiency r_eff, computed once from
  the (thinned) posterior exactly as `az.loo` computes it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from irt_pipeline.stats.matrix import VoteMatrix

MAX_DRAWS = 2000
CERTAIN_SPREAD = 1e-3  # nats: see _certain_votes_exactly
CHUNK_VALUES = 8_000_000  # float64 log-likelihood values per chunk: 64 MB


def thinned_draws(n_draws: int, n_chains: int, max_draws: int) -> np.ndarray:
    """Indices of draws kept in each chain: evenly spaced, at most max_draws // n_chains."""
    keep = max(1, min(n_draws, max_draws // n_chains))
    return np.unique(np.linspace(0, n_draws - 1, keep).round().astype(int))


# The reported variables of each dimension: positions and discriminations.
DIMENSIONS = (("xi", "beta"), ("xi_2", "beta_2"))


def aligned_draws(idata, matrix: VoteMatrix, max_draws: int | None = MAX_DRAWS):
    """xi (chains, draws, n) and alpha, beta (chains, draws, m) in the matrix's row and
    column order, thinned to at most max_draws in all (None: all draws). A posterior
    with a second dimension (xi_2, beta_2) gives xi (chains, draws, n, 2) and beta
    (chains, draws, m, 2)."""
    post = idata.posterior
    draws = np.arange(post.sizes["draw"])
    if max_draws is not None:
        draws = thinned_draws(post.sizes["draw"], post.sizes["chain"], max_draws)
    legislators = pd.Index(post["legislator"].values.astype(str))
    roll_calls = pd.Index(post["roll_call"].values.astype(str))
    rows = legislators.get_indexer(matrix.legislators["legislator_id"].astype(str))
    cols = roll_calls.get_indexer(matrix.roll_calls["roll_call_id"].astype(str))
    if (rows < 0).any() or (cols < 0).any():
        raise ValueError("the posterior does not cover every legislator and roll call of the matrix")

    def take(name, index):
        values = post[name].transpose("chain", "draw", ...).values[:, draws]
        return np.ascontiguousarray(values[..., index])

    if "xi_2" not in post:
        return take("xi", rows), take("alpha", cols), take("beta", cols)
    xi = np.stack([take(position, rows) for position, _ in DIMENSIONS], axis=-1)
    beta = np.stack([take(discrimination, cols) for _, discrimination in DIMENSIONS], axis=-1)
    return xi, take("alpha", cols), beta


def linear_predictor(xi, alpha, beta, rows, cols) -> np.ndarray:
    """eta = beta_j . xi_i - alpha_j for legislators `rows` and roll calls `cols` (k,),
    from `aligned_draws`' arrays (any leading axes): (..., k)."""
    if xi.ndim == alpha.ndim:
        return beta[..., cols] * xi[..., rows] - alpha[..., cols]
    return np.einsum("...kd,...kd->...k", beta[..., cols, :], xi[..., rows, :]) - alpha[..., cols]


def vote_log_likelihood(xi, alpha, beta, rows, cols, y) -> np.ndarray:
    """(chains, draws, k) log-likelihood of k observed votes y (1 Yea, 0 Nay) of
    legislators `rows` on roll calls `cols`."""
    sign = 2.0 * np.asarray(y, float) - 1.0  # log P(y) = -log(1 + exp(-sign * eta))
    eta = linear_predictor(xi, alpha, beta, rows, cols)
    eta *= -sign
    return -np.logaddexp(0.0, eta, out=eta)


def relative_efficiency(xi, alpha, beta) -> float:
    """r_eff as `az.loo` computes it: mean 'mean' ESS over all posterior values / draws."""
    import arviz as az

    if xi.shape[0] == 1:
        return 1.0
    data = az.from_dict(posterior={"xi": xi, "alpha": alpha, "beta": beta})
    ess = az.ess(data, method="mean")
    values = np.hstack([ess[v].values.ravel() for v in ess.data_vars])
    return float(np.nanmean(values) / (xi.shape[0] * xi.shape[1]))


def log_mean_exp(a: np.ndarray, axis: int) -> np.ndarray:
    """log(mean(exp(a))) along axis, exact to rounding also where a is nearly constant
    (max + log1p(mean(expm1(a - max))): no log(S) - log(S) cancellation)."""
    top = a.max(axis=axis, keepdims=True)
    return np.squeeze(top, axis) + np.log1p(np.mean(np.expm1(a - top), axis=axis))


def _certain_votes_exactly(loo_i: np.ndarray, ll: np.ndarray) -> np.ndarray:
    """PSIS returns NaN for a vote predicted all but certainly in every draw (log
    likelihoods of 1e-100 to 1e-6: a Pareto fit to a tail of width ~0). Both the true
    LOO value and the plain importance-sampling estimate, -log mean(exp(-ll)), lie
    between the smallest and the largest ll, so where those differ by less than
    `CERTAIN_SPREAD` nats the estimate is exact to that; anything else stays NaN."""
    bad = np.nonzero(~np.isfinite(loo_i))[0]
    if len(bad):
        weights = -ll[..., bad].reshape(-1, len(bad))  # (S, k) log importance ratios
        flat = np.ptp(weights, axis=0) < CERTAIN_SPREAD
        estimate = -log_mean_exp(weights, axis=0)
        loo_i = loo_i.copy()
        loo_i[bad[flat]] = estimate[flat]
    return loo_i


def psis_loo(idata, matrix: VoteMatrix, max_draws: int | None = MAX_DRAWS, chunk_votes: int | None = None):
    """PSIS-LOO over the matrix's observed votes (row-major order), as a pointwise ArviZ
    ELPDData (log scale). chunk_votes: votes per `az.loo` call (default: as many as
    fit in CHUNK_VALUES)."""
    import arviz as az
    import xarray as xr
    from arviz.stats.stats_utils import ELPDData

    xi, alpha, beta = aligned_draws(idata, matrix, max_draws)
    chains, draws = xi.shape[:2]
    n_samples = chains * draws
    rows, cols, y = matrix.observed
    n_votes = len(rows)
    chunk = chunk_votes or max(1, CHUNK_VALUES // n_samples)
    reff = relative_efficiency(xi, alpha, beta)

    loo_i, pareto_k, p_loo = [], [], 0.0
    for start in range(0, n_votes, chunk):
        part = slice(start, min(start + chunk, n_votes))
        ll = vote_log_likelihood(xi, alpha, beta, rows[part], cols[part], y[part])
        data = az.InferenceData(
            log_likelihood=xr.Dataset({"y": (("chain", "draw", "vote"), ll)})
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pareto-k warnings are summarized by the caller
            result = az.loo(data, pointwise=True, reff=reff, scale="log")
        part_loo = _certain_votes_exactly(result["loo_i"].values, ll)
        lppd = log_mean_exp(ll.reshape(n_samples, -1), axis=0)
        loo_i.append(part_loo)
        pareto_k.append(result["pareto_k"].values)
        p_loo += float(lppd.sum() - part_loo.sum())  # as az.loo computes it
    loo_i = np.concatenate(loo_i)
    pareto_k = np.concatenate(pareto_k)
    good_k = min(1 - 1 / np.log10(n_samples), 0.7)
    vote = np.arange(n_votes)
    return ELPDData(
        data=[
            float(loo_i.sum()),
            float((n_votes * np.var(loo_i)) ** 0.5),
            p_loo,
            n_samples,
            n_votes,
            bool(np.any(pareto_k > good_k)),
            xr.DataArray(loo_i, dims="vote", coords={"vote": vote}, name="loo_i"),
            xr.DataArray(pareto_k, dims="vote", coords={"vote": vote}, name="pareto_shape"),
            "log",
            good_k,
        ],
        index=[
            "elpd_loo", "se", "p_loo", "n_samples", "n_data_points", "warning",
            "loo_i", "pareto_k", "scale", "good_k",
        ],
    )


def pareto_k_summary(table: pd.DataFrame, top: int = 5) -> dict:
    """Counts of votes by Pareto k (the PSIS reliability bands: k <= good_k fine, up to
    1 unreliable, above 1 failed) and the `top` worst votes by legislator and roll call,
    from a `loo_table` frame."""
    k = table["pareto_k"].to_numpy()
    good_k = float(table.attrs["good_k"])
    worst = table.iloc[np.argsort(-k)[:top]]
    return {
        "good_k": good_k,
        "votes": int(len(k)),
        "k_above_good": int((k > good_k).sum()),
        "k_above_1": int((k > 1).sum()),
        "k_max": float(k.max()),
        "worst": [
            {"legislator_id": row.legislator_id, "roll_call_id": row.roll_call_id, "pareto_k": float(row.pareto_k)}
            for row in worst.itertuples()
        ],
    }


def compare_models(loos: dict) -> pd.DataFrame:
    """`az.compare` of precomputed ELPDData by model name: best first, with elpd_diff and
    its standard error dse."""
    import arviz as az

    return az.compare(loos, ic="loo", scale="log")


# What `loo_table` keeps of an ELPDData besides the pointwise values, in the frame's attrs.
ELPD_SCALARS = ("elpd_loo", "se", "p_loo", "n_samples", "n_data_points", "warning", "scale", "good_k")


def loo_table(elpd, matrix: VoteMatrix) -> pd.DataFrame:
    """A pointwise ELPDData (`psis_loo`) as a frame, one row per observed vote in the
    matrix's row-major order: legislator_id, roll_call_id, vote (1 Yea, 0 Nay), loo_i
    (nats), pareto_k; the totals (`ELPD_SCALARS`) in `attrs`, which parquet keeps."""
    rows, cols, y = matrix.observed
    table = pd.DataFrame(
        {
            "legislator_id": matrix.legislators["legislator_id"].astype(str).to_numpy()[rows],
            "roll_call_id": matrix.roll_calls["roll_call_id"].astype(str).to_numpy()[cols],
            "vote": y.astype("int8"),
            "loo_i": np.asarray(elpd["loo_i"], float),
            "pareto_k": np.asarray(elpd["pareto_k"], float),
        }
    )
    table.attrs.update({name: _plain(elpd[name]) for name in ELPD_SCALARS})
    return table


def _plain(value):
    """A numpy scalar as the Python value (JSON and parquet metadata take those)."""
    return value.item() if isinstance(value, np.generic) else value


def elpd_from_table(table: pd.DataFrame, votes: pd.DataFrame | None = None):
    """The ELPDData of a `loo_table` frame, for `compare_models`. votes: another model's
    table (legislator_id, roll_call_id) whose vote order this one must follow, so that
    pointwise differences pair the same votes; refused (ValueError) if the two tables do
    not hold the same votes."""
    import xarray as xr
    from arviz.stats.stats_utils import ELPDData

    if votes is not None:
        key = ["legislator_id", "roll_call_id"]
        order = pd.MultiIndex.from_frame(table[key]).get_indexer(pd.MultiIndex.from_frame(votes[key]))
        if len(table) != len(votes) or (order < 0).any():
            raise ValueError("the two models' LOO tables are not over the same votes")
        table = table.iloc[order].reset_index(drop=True).__finalize__(table)
    vote = np.arange(len(table))
    data = [table.attrs[name] for name in ELPD_SCALARS[:6]]
    return ELPDData(
        data=[
            *data,
            xr.DataArray(table["loo_i"].to_numpy(), dims="vote", coords={"vote": vote}, name="loo_i"),
            xr.DataArray(table["pareto_k"].to_numpy(), dims="vote", coords={"vote": vote}, name="pareto_shape"),
            table.attrs["scale"],
            table.attrs["good_k"],
        ],
        index=[*ELPD_SCALARS[:6], "loo_i", "pareto_k", "scale", "good_k"],
    )
