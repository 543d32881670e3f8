"""Posterior-step benchmark: the shipped sampler against "now" (an older commit,
d214495 by default: main before the round bench/RESULTS.md reports, checked out with its
own venv by bench/baseline.py) and the stock configurations, side by side in one run, on
the same data.

    python bench/run.py --case senate117 --configs shipped,now,floor,now_floor
    python bench/run.py --case senate117 --configs shipped@300,shipped@500,shipped     # tuning length
    python bench/run.py --case senate117 --configs shipped,fixed                       # stopping rule's cost
    python bench/run.py --reuse stock,pymc,numpyro   # those rows from bench/out/ (an earlier run)
    python bench/run.py --case senate117 --configs shipped,stock,pymc,numpyro,pscl    # peers

Configurations (every one but pscl starts from the same PCA scores; 4 chains):
  shipped    the pipeline's posterior step as shipped (`sample(hierarchical.SPEC, ...)`,
             defaults: sampled in blocks until every gate passes with a margin);
             shipped@T the same with T tuning draws per chain
  fixed      the shipped model and sampler with a fixed length (`--fixed-draws`, default
             4,000 kept draws per chain, no early stop): the reference for the stopping rule
  now        the commit `--now-commit` (default d214495; `sample_hierarchical` with its
             defaults), run by its own venv: the first run exports that commit into
             bench/out/baseline-<commit>/ and builds the venv there (a few minutes; kept
             for later runs, `python bench/baseline.py --remove` deletes it; another
             commit must have d214495's sampling API); its draws are judged by today's
             gates (it had no tau: that group is "missing" and fails)
  graph      the shipped model (same constraint and coordinates), but its PyMC graph
             compiled by nutpie.compile_pymc_model (numba): what the kernel adds
  stock      the PyMC graph as first specified (non-centered, no constraint), compiled
             by nutpie.compile_pymc_model (numba) and sampled by nutpie.sample
  pymc       the same graph sampled by PyMC's own NUTS (pm.sample, C backend)
  numpyro    the same model in NumPyro, NUTS (needs the `bench` extras: jax, numpyro)
  pscl       R's pscl::ideal with its own defaults (`ideal(rc)`: a probit model sampled
             by Gibbs, 10,000 iterations, burn-in 5,000, thin 100; bench/pscl_ideal.R,
             Debian's r-cran-pscl, installed by `make bench`): the baseline analysts
             use; 4 chains, one ideal() call each with its own seed, over both cores.
             It starts from its own eigen-decomposition start, not the PCA scores.
  floor      the shipped log-density + gradient called in a tight loop (one core): the
             floor per gradient; also the same kernel in double precision and the
             roofline (a loop of fused multiply-adds on the same core)
  now_floor  the same tight loop of now's kernel, in now's venv
  floor_avx2, now_floor_avx2  the same two loops compiled for an AVX2 + FMA processor
             (NUMBA_CPU_NAME=haswell: no AVX-512), the other kind of machine this
             workplace has, measured on this one

Each configuration runs in its own process (its peak memory is its own, and nothing
compiled by one helps another). ESS and R-hat are over the ideal points standardized
per draw, the scale the pipeline reports (the stock model's and pscl's own scales
float), with no orientation per draw or per chain (a chain in the mirror image shows
in R-hat); the gates columns are the pipeline's own (`diagnostics.gates_for`) on every
gated group.
Results go to stdout as a table and to bench/out/<case>.json; `--write-results`
rewrites the tables in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import baseline  # noqa: E402
from _common import BENCH, OUT, REPO, command_line, fmt, markdown_table, processor, ratio, voteview_files  # noqa: E402
from _common import write_measured  # noqa: E402

CONFIGS = ("shipped", "now", "graph", "stock", "pymc", "numpyro", "pscl", "floor", "now_floor")
CASES = ("senate117", "house117", "kansas_house")
CHAINS = 4
PARALLEL = min(CHAINS, os.cpu_count() or 1)  # chains running at once


# ---------------------------------------------------------------- data


def load_case(case: str):
    """(VoteMatrix, pca scores, reference score per matrix row) of a benchmark case.
    The reference is DW-NOMINATE dim 1 for the Senate, the true ideal point for the
    simulated chamber."""
    from irt_pipeline.stats.matrix import build_vote_matrix
    from irt_pipeline.stats.pca import pca_scores
    from irt_pipeline.stats.validation import external_scores

    if case in ("senate117", "house117"):
        from irt_pipeline.sources.voteview import read_voteview

        stem = "S117" if case == "senate117" else "H117"
        rows = read_voteview(*voteview_files(stem))
        reference = external_scores(rows)
    elif case == "kansas_house":
        from irt_pipeline.demo import DemoChamber, simulate_chamber

        rows, truth = simulate_chamber(DemoChamber("bench-2025", "House", 130, 300, seed=2025))
        reference = truth.set_index("legislator_id")["xi_true"]
    else:
        raise SystemExit(f"unknown case {case!r}; expected one of {CASES}")
    matrix, _ = build_vote_matrix(rows)
    reference = reference.reindex(matrix.legislators["legislator_id"]).to_numpy(dtype=float)
    return matrix, pca_scores(matrix)["pc1"].to_numpy(), reference


STOCK_PARTIES = ["Democrat", "Republican"]  # the model as first specified had these two


def stock_groups(matrix):
    """(groups, major, g): each legislator's party group (0 Democrat, 1 Republican, 2
    other), whether it is a major party's, and the major party index used where it is."""
    parties = matrix.legislators["party"].to_numpy()
    groups = np.full(len(parties), 2)
    for code, name in enumerate(STOCK_PARTIES):
        groups[parties == name] = code
    return groups, groups < 2, np.minimum(groups, 1)


def build_stock_model(matrix):
    """The hierarchical model as first specified, in PyMC's own parameterization: no
    standardization constraint, non-centered, beta ~ N(0, 1) (the issue that asked for a
    10x speedup measured against this). Its ideal points, standardized per draw, rank the
    legislators as the shipped model's do."""
    import pymc as pm

    _, major, g = stock_groups(matrix)
    rows, cols = np.nonzero(np.isfinite(matrix.votes))
    coords = {
        "legislator": matrix.legislators["legislator_id"].astype(str).tolist(),
        "roll_call": matrix.roll_calls["roll_call_id"].astype(str).tolist(),
        "party": STOCK_PARTIES,
        "vote": np.arange(len(rows)),
    }
    with pm.Model(coords=coords) as model:
        mu_party = pm.Normal(
            "mu_party", 0.0, 2.0, dims="party",
            transform=pm.distributions.transforms.ordered, initval=np.array([-1.0, 1.0]),
        )
        sigma_party = pm.HalfNormal("sigma_party", 1.0, dims="party")
        xi_offset = pm.Normal("xi_offset", 0.0, 1.0, dims="legislator")
        xi = pm.Deterministic(
            "xi",
            pm.math.where(major, mu_party[g] + sigma_party[g] * xi_offset, 2.0 * xi_offset),
            dims="legislator",
        )
        alpha = pm.Normal("alpha", 0.0, 5.0, dims="roll_call")
        beta = pm.Normal("beta", 0.0, 1.0, dims="roll_call")
        pm.Bernoulli(
            "y", logit_p=beta[cols] * xi[rows] - alpha[cols],
            observed=matrix.votes[rows, cols].astype("int8"), dims="vote",
        )
    return model


def stock_start(matrix, pca):
    """Constrained start values of the stock model from the PCA scores."""
    from irt_pipeline.stats.starts import item_logits

    groups, major, g = stock_groups(matrix)
    mu = np.array([pca[groups == k].mean() for k in (0, 1)])
    sigma = np.array([max(pca[groups == k].std(), 0.05) for k in (0, 1)])
    offset = np.where(major, (pca - mu[g]) / sigma[g], pca / 2.0)
    alpha, beta = item_logits(matrix.votes, pca)
    return {"mu_party": mu, "sigma_party": sigma, "xi_offset": offset, "alpha": alpha, "beta": beta}


def standardized_xi(xi: np.ndarray) -> np.ndarray:
    """(chain, draw, legislator) ideal points standardized within each draw."""
    return (xi - xi.mean(-1, keepdims=True)) / xi.std(-1, keepdims=True)


def summarize(xi: np.ndarray, n_steps_total: int | None, divergences: int | None, ebfmi) -> dict:
    """Convergence of (chain, draw, legislator) ideal points standardized per draw, the
    same for every configuration (no orientation per draw: each model's own constraint,
    or none, decides the sign). The sampler's counts are None where it has none (Gibbs)."""
    import arviz as az

    data = az.convert_to_dataset({"xi": standardized_xi(np.asarray(xi))})
    return {
        "min_ess_bulk_xi": float(az.ess(data, method="bulk")["xi"].min()),
        "max_rhat_xi": float(az.rhat(data)["xi"].max()),
        "divergences": None if divergences is None else int(divergences),
        "min_ebfmi": None if ebfmi is None else float(np.min(ebfmi)),
        **({} if n_steps_total is None else {"gradient_evals": int(n_steps_total)}),
        "xi_mean": standardized_xi(np.asarray(xi)).mean((0, 1)).tolist(),
    }


def summarize_nuts(idata, divergences=None, ebfmi=None) -> dict:
    """`summarize` of a NUTS run's InferenceData (nutpie's or PyMC's): gradient
    evaluations over tuning and kept draws; divergences and E-BFMI from its sample
    stats unless given."""
    import arviz as az

    stats = idata.sample_stats
    steps = int(stats["n_steps"].sum() + idata.warmup_sample_stats["n_steps"].sum())
    divergences = stats["diverging"].sum() if divergences is None else divergences
    return summarize(idata.posterior["xi"].values, steps, divergences, az.bfmi(idata) if ebfmi is None else ebfmi)


def second_partition_setup_s(matrix, compile_kernel) -> float:
    """Seconds `compile_kernel(other, other_pca)` takes in this process, its kernel
    already compiled, for another matrix of a different shape (a tenth of the roll
    calls dropped): the setup of a machine's later partitions."""
    from irt_pipeline.stats.matrix import VoteMatrix
    from irt_pipeline.stats.pca import pca_scores

    keep = np.arange(matrix.shape[1]) % 10 != 0
    other = VoteMatrix(matrix.legislators, matrix.roll_calls[keep].reset_index(drop=True), matrix.votes[:, keep])
    other_pca = pca_scores(other)["pc1"].to_numpy()
    start = time.perf_counter()
    compile_kernel(other, other_pca)
    return time.perf_counter() - start


# ---------------------------------------------------------------- configurations


GATE_GROUPS = ("xi", "party", "tau")


def gate_report(idata) -> dict:
    """Today's gates (`diagnostics.gates_for` of the hierarchical model) on `idata`, the
    worst R-hat and bulk ESS per gated group, and each gated variable's posterior mean,
    sd and their Monte Carlo standard errors (for comparing two runs)."""
    import arviz as az

    from irt_pipeline.stats.diagnostics import convergence_summary, evaluate_gates, gates_for
    from irt_pipeline.stats.models import hierarchical

    gated = hierarchical.SPEC.gated
    summary = convergence_summary(idata, gated)
    records = evaluate_gates(summary, gates_for(gated))
    out = {f"rhat_{g}": summary[f"rhat_{g}_max"] for g in GATE_GROUPS}
    out.update({f"ess_{g}": summary[f"ess_bulk_{g}_min"] for g in GATE_GROUPS})
    out.update(
        gates_passed=sum(bool(r["passed"]) for r in records), gates_total=len(records),
        gates_failed=[r["gate"] for r in records if not r["passed"]],
        ebfmi_min=summary["ebfmi_min"], steps_per_draw=summary["leapfrog_steps_per_draw"],
    )
    moments = {}
    for variable in [v for group in gated.values() for v in group if v in idata.posterior]:
        stats = az.summary(idata, var_names=[variable], kind="all", round_to="none")
        moments[variable] = {k: stats[k].tolist() for k in ("mean", "sd", "mcse_mean", "mcse_sd")}
    out["moments"] = moments
    return out


def _sample_shipped_model(matrix, pca, backend, **overrides):
    from irt_pipeline.stats.diagnostics import convergence_summary
    from irt_pipeline.stats.models import hierarchical
    from irt_pipeline.stats.sampling import SamplerSettings, sample

    settings = SamplerSettings(chains=CHAINS, backend=backend, **overrides)
    idata = sample(hierarchical.SPEC, matrix, pca, settings)
    diag = convergence_summary(idata, hierarchical.SPEC.gated)
    out = summarize_nuts(idata, diag["divergences"], diag["ebfmi_per_chain"])
    out.update(compile_s=idata.attrs["compile_seconds"], sample_s=idata.attrs["sampling_seconds"],
               tune=settings.tune, draws=int(idata.attrs["draws_used"]), stop=idata.attrs["stop"],
               sampling_runs=len(json.loads(idata.attrs["sampling_runs"])), **gate_report(idata))
    return out, settings


def run_graph(matrix, pca, tune, draws):
    return _sample_shipped_model(matrix, pca, "pymc")[0]


def run_fixed(matrix, pca, tune, draws):
    """The shipped sampler, a fixed number of kept draws per chain (no early stop)."""
    return _sample_shipped_model(matrix, pca, "kernel", draws=draws, max_draws=draws)[0]


def run_shipped(matrix, pca, tune, draws):
    from irt_pipeline.stats.models import hierarchical
    from irt_pipeline.stats.sampling import compile_kernel

    out, settings = _sample_shipped_model(matrix, pca, "kernel", **({"tune": tune} if tune else {}))
    out["second_partition_setup_s"] = second_partition_setup_s(
        matrix, lambda m, p: compile_kernel(hierarchical.SPEC, hierarchical.bind(m, p), settings.seed))
    return out


def run_now(matrix, pca, tune, draws, case=""):
    """The baseline commit's `sample_hierarchical` with its defaults. Runs in that
    commit's venv (`run_in_subprocess`); its draws go to bench/out/<case>.now.nc for
    today's gates, judged by the calling process."""
    from irt_pipeline.stats.sampling import SamplerSettings, compile_kernel_model, sample_hierarchical

    settings = SamplerSettings(chains=CHAINS)
    idata = sample_hierarchical(matrix, pca, settings)
    out = summarize_nuts(idata)
    out.update(compile_s=float(idata.attrs["compile_seconds"]), sample_s=float(idata.attrs["sampling_seconds"]),
               tune=settings.tune, draws=settings.draws)
    idata.to_netcdf(str(OUT / f"{case}.now.nc"))
    out["second_partition_setup_s"] = second_partition_setup_s(
        matrix, lambda m, p: compile_kernel_model(m, p, settings.seed, settings.centering))
    return out


def judge_now(case: str, result: dict) -> dict:
    """Today's gates on now's stored draws (in this process: today's code)."""
    import arviz as az

    path = OUT / f"{case}.now.nc"
    if "error" not in result and path.exists():
        result.update(gate_report(az.from_netcdf(str(path))))
    return result


def _stock(matrix, pca):
    """The stock model, its start values and the seconds building both took."""
    start = time.perf_counter()
    model, init = build_stock_model(matrix), stock_start(matrix, pca)
    return model, init, time.perf_counter() - start


def run_stock(matrix, pca, tune, draws):
    import nutpie

    model, init, setup_s = _stock(matrix, pca)
    start = time.perf_counter()
    compiled = nutpie.compile_pymc_model(
        model,
        backend="numba",
        initial_points=init,
        jitter_rvs={model["alpha"], model["beta"]},
        var_names=["xi", "mu_party", "sigma_party"],
    )
    compile_s = setup_s + time.perf_counter() - start
    start = time.perf_counter()
    idata = nutpie.sample(compiled, chains=CHAINS, tune=tune, draws=draws, seed=1, progress_bar=False)
    sample_s = time.perf_counter() - start
    return {**summarize_nuts(idata), "compile_s": compile_s, "sample_s": sample_s, "tune": tune, "draws": draws}


def run_pymc(matrix, pca, tune, draws):
    import pymc as pm

    model, init, setup_s = _stock(matrix, pca)
    start = time.perf_counter()
    with model:
        idata = pm.sample(
            draws=draws, tune=tune, chains=CHAINS, cores=PARALLEL,
            initvals=init, random_seed=1, progressbar=False, discard_tuned_samples=False,
            compute_convergence_checks=False,
        )
    sample_s = time.perf_counter() - start
    # PyMC compiles inside pm.sample; its setup is counted in sample_s.
    return {**summarize_nuts(idata), "compile_s": setup_s, "sample_s": sample_s, "tune": tune, "draws": draws}


def run_numpyro(matrix, pca, tune, draws):
    import numpyro

    numpyro.set_host_device_count(CHAINS)  # chains in parallel rather than in turn
    import jax
    import jax.numpy as jnp
    import numpyro.distributions as dist
    from numpyro.infer import MCMC, NUTS, init_to_value

    _, major, g = (jnp.asarray(a) for a in stock_groups(matrix))
    rows, cols = np.nonzero(np.isfinite(matrix.votes))
    y = jnp.asarray(matrix.votes[rows, cols])
    rows, cols = jnp.asarray(rows), jnp.asarray(cols)
    n, m = matrix.shape

    def model():
        mu = numpyro.sample("mu_party", dist.Normal(0.0, 2.0).expand([2]))
        numpyro.factor("order", jnp.where(mu[0] < mu[1], 0.0, -jnp.inf))
        sigma = numpyro.sample("sigma_party", dist.HalfNormal(1.0).expand([2]))
        offset = numpyro.sample("xi_offset", dist.Normal(0.0, 1.0).expand([n]))
        xi = numpyro.deterministic("xi", jnp.where(major, mu[g] + sigma[g] * offset, 2.0 * offset))
        alpha = numpyro.sample("alpha", dist.Normal(0.0, 5.0).expand([m]))
        beta = numpyro.sample("beta", dist.Normal(0.0, 1.0).expand([m]))
        numpyro.sample("y", dist.Bernoulli(logits=beta[cols] * xi[rows] - alpha[cols]), obs=y)

    init = {k: jnp.asarray(v) for k, v in stock_start(matrix, pca).items()}
    kernel = NUTS(model, init_strategy=init_to_value(values=init))
    mcmc = MCMC(kernel, num_warmup=tune, num_samples=draws, num_chains=CHAINS, progress_bar=False)
    start = time.perf_counter()
    mcmc.warmup(jax.random.PRNGKey(1), extra_fields=("num_steps",), collect_warmup=True)
    warm_steps = int(np.sum(mcmc.get_extra_fields()["num_steps"]))
    mcmc.run(mcmc.post_warmup_state.rng_key, extra_fields=("num_steps", "diverging", "energy"))
    sample_s = time.perf_counter() - start
    extra = mcmc.get_extra_fields(group_by_chain=True)
    energy = np.asarray(extra["energy"])
    ebfmi = np.square(np.diff(energy, axis=1)).mean(1) / energy.var(1)
    xi = np.asarray(mcmc.get_samples(group_by_chain=True)["xi"])
    steps = warm_steps + int(np.sum(extra["num_steps"]))
    out = summarize(xi, steps, int(np.sum(extra["diverging"])), ebfmi)
    # JAX compiles inside warmup; counted in sample_s.
    out.update(compile_s=0.0, sample_s=sample_s, tune=tune, draws=draws)
    return out


PSCL_SCRIPT = BENCH / "pscl_ideal.R"


def run_pscl(matrix, pca, tune, draws):
    """`pscl::ideal` with its defaults on the same vote matrix, one call per chain
    (bench/pscl_ideal.R, through Rscript): the baseline analysts use. Its defaults
    (pscl 1.5.5): a one-dimensional probit model sampled by data-augmentation Gibbs;
    maxiter 10,000 iterations per chain, burnin 5,000, thin 100, so 50 kept draws per
    chain; priors x_i ~ N(0, 1) and each roll call's discrimination and difficulty
    ~ N(0, 25) (precisions 1 and 0.04); normalize = FALSE (draws left on the sampler's
    floating scale: `summarize` standardizes every row per draw anyway); start values
    from the eigen-decomposition of the legislators' agreement matrix (the same start for
    every chain: the seed, SEED + chain, changes only the draws); roll calls with no
    losing votes dropped (dropList lop = 0). It does not use the PCA start. The chains run
    in parallel on min(chains, cores) forked R processes (parallel::mclapply), as the
    other configurations spread their chains over the cores. compile_s: everything but
    the ideal() calls (R start, loading pscl, reading the votes, writing the draws);
    the CPU seconds (`run_one`) count R and its forked chains as this process's
    children; peak_rss_mb is the largest R process's."""
    import shutil

    import pandas as pd

    if shutil.which("Rscript") is None:
        raise RuntimeError("no Rscript: install Debian's r-cran-pscl (`make bench` does, as root)")
    ids = matrix.legislators["legislator_id"].astype(str).tolist()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        votes_csv, draws_csv, timing_txt = (Path(tmp) / name for name in ("votes.csv", "draws.csv", "timing.txt"))
        pd.DataFrame(matrix.votes, index=ids).to_csv(votes_csv, na_rep="NA")
        cmd = ["Rscript", str(PSCL_SCRIPT), str(votes_csv), str(draws_csv), str(timing_txt), str(CHAINS), "1", str(PARALLEL)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr.strip()}")
        draws_frame = pd.read_csv(draws_csv)
        timing = dict(line.split() for line in timing_txt.read_text().splitlines())
    total_s = time.perf_counter() - start
    if draws_frame.columns[2:].tolist() != ids:
        raise RuntimeError("pscl's draws are not in the vote matrix's legislator order")
    n_chains, n_draws = draws_frame["chain"].nunique(), draws_frame["draw"].nunique()
    xi = draws_frame.sort_values(["chain", "draw"]).iloc[:, 2:].to_numpy().reshape(n_chains, n_draws, len(ids))
    out = summarize(xi, None, None, None)  # a Gibbs sampler: no gradients, divergences or energy
    sample_s = float(timing["sampling_seconds"])
    maxiter, burnin, thin = (int(float(timing[k])) for k in ("maxiter", "burnin", "thin"))
    out.update(compile_s=total_s - sample_s, sample_s=sample_s, tune=burnin, draws=maxiter - burnin, thin=thin,
               kept_draws=n_draws, gibbs_sweeps=n_chains * maxiter, roll_calls_used=int(float(timing["roll_calls_used"])),
               cores=PARALLEL, peak_rss_mb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    return out


def _per_call(function, *args, calls: int = 500, repeats: int = 5) -> float:
    """Best seconds per call of function(*args) over `repeats` timings of `calls` calls
    (best: the least disturbed by other work on the machine)."""
    function(*args)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            function(*args)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def fma_peak_flops() -> float:
    """Single-precision FLOP/s of one core in the best case: eight independent chains of
    fused multiply-adds over L1-resident float32 arrays (vectorized by LLVM to the
    widest FMA the core has), an FMA counted as two FLOPs."""
    import numba

    @numba.njit(fastmath={"contract"})  # FMAs, but no reassociation that would fold the chains
    def fmas(x, repeats):
        n = x.shape[1]
        c, d = np.float32(0.999), np.float32(0.001)
        for _ in range(repeats):
            for i in range(n):
                a0, a1, a2, a3 = x[0, i], x[1, i], x[2, i], x[3, i]
                a4, a5, a6, a7 = x[4, i], x[5, i], x[6, i], x[7, i]
                for _ in range(16):
                    a0, a1, a2, a3 = a0 * c + d, a1 * c + d, a2 * c + d, a3 * c + d
                    a4, a5, a6, a7 = a4 * c + d, a5 * c + d, a6 * c + d, a7 * c + d
                x[0, i], x[1, i], x[2, i], x[3, i] = a0, a1, a2, a3
                x[4, i], x[5, i], x[6, i], x[7, i] = a4, a5, a6, a7

    x = np.ones((8, 256), np.float32)
    repeats = 200
    seconds = _per_call(fmas, x, repeats, calls=20)
    return 8 * 256 * 16 * 2 * repeats / seconds


# Floating-point operations per vote of `kernel._twopl_single` (FMA = 2; compares,
# selects, min/max/abs and the exponent's integer arithmetic 1 each), counted from its
# source: eta 2, sign 1, |eta| 1, exp 26, sigmoid 2 (one division), log1p 21 (one
# division), log-likelihood 5, derivative 4, three gradient sums 5.
FLOPS_PER_VOTE = 67


def run_floor(matrix, pca, tune, draws):
    """Seconds per call of the shipped log-density + gradient (no sampler around it),
    in single precision as sampled and in double precision; the roofline of that core."""
    from irt_pipeline.stats.models import hierarchical

    bound = hierarchical.bind(matrix, pca)
    x = bound.start(np.random.default_rng(0))
    data = bound.kernel_data
    grad = np.empty_like(x)
    single = _per_call(hierarchical.logp_grad, x, grad, data.votes, data.ints, data.floats)
    votes64 = data.votes.astype(np.float64)
    double = _per_call(hierarchical.logp_grad, x, grad, votes64, data.ints, data.floats)
    return {"s_per_grad": single, "s_per_grad_double": double, "peak_flops": fma_peak_flops(),
            "cells": int(data.votes.size)}


def run_now_floor(matrix, pca, tune, draws):
    """now's kernel (the baseline commit's) in the same tight loop, in now's venv."""
    from irt_pipeline.stats.kernel import hierarchical_logp_grad
    from irt_pipeline.stats.model import start_values
    from irt_pipeline.stats.sampling import SamplerSettings, prepare

    layout, items = prepare(matrix, pca, SamplerSettings().centering)
    x = layout.unconstrained(start_values(pca, layout.groups, items, np.random.default_rng(0)))
    votes = np.ascontiguousarray(matrix.signed_votes())
    grad = np.empty_like(x)
    return {"s_per_grad": _per_call(hierarchical_logp_grad, x, grad, votes, layout.groups, layout.centering),
            "cells": int(votes.size)}


RUNNERS = {"shipped": run_shipped, "fixed": run_fixed, "now": run_now, "graph": run_graph, "stock": run_stock,
           "pymc": run_pymc, "numpyro": run_numpyro, "pscl": run_pscl, "floor": run_floor, "now_floor": run_now_floor,
           "floor_avx2": run_floor, "now_floor_avx2": run_now_floor}
IN_NOW_VENV = ("now", "now_floor", "now_floor_avx2")
FLOOR_LABELS = {
    "floor": "floor (shipped kernel, tight loop)", "now_floor": "now's kernel, tight loop",
    "floor_avx2": "floor, code for AVX2 + FMA", "now_floor_avx2": "now's kernel, code for AVX2 + FMA",
}
AVX2_CPU = "haswell"  # numba's target for the *_avx2 configurations: AVX2 and FMA, no AVX-512


def avx2_features() -> str:
    """This processor's features with every AVX-512 extension turned off (numba's
    NUMBA_CPU_FEATURES; the CPU name alone leaves the host's features on)."""
    import llvmlite.binding as llvm

    features = llvm.get_host_cpu_features()
    return ",".join(("+" if on and not name.startswith("avx512") else "-") + name for name, on in features.items())


def run_one(case: str, config: str, tune: int, draws: int) -> dict:
    """One configuration, in this process; adds wall-clock totals and peak memory."""
    matrix, pca, _ = load_case(case)
    base, _, tuned = config.partition("@")  # shipped@300: 300 tuning draws per chain
    tune = int(tuned) if tuned else tune
    if base == "now":
        out = run_now(matrix, pca, tune, draws, case)
    else:
        out = RUNNERS[base](matrix, pca, tune, draws)
    if "xi_mean" in out:
        # One sign for the whole run (Republicans' mean above Democrats'), the same rule
        # for every row: a no-op where the model's constraint fixes the sign, the
        # orientation pscl's ideal leaves open. R-hat and ESS do not depend on it.
        from irt_pipeline.stats.pca import default_weights, orient

        mean = np.asarray(out["xi_mean"])
        oriented = orient(mean, default_weights(matrix.legislators["party"]))
        out.update(xi_mean=oriented.tolist(), xi_mean_reflected=bool(np.any(oriented != mean)))
    # pscl sets its own: the largest R process's (the sampler's, not this harness's)
    out.setdefault("peak_rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    # CPU seconds of this process and its children (the kernel compile): on a shared
    # machine less disturbed by others' work than wall seconds.
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    out["cpu_s"] = sum(u.ru_utime + u.ru_stime for u in usage)
    if "sample_s" in out:
        # The posterior step's wall time: compile/setup plus sampling (post-processing
        # such as ESS computation is not counted for anyone).
        out["total_s"] = out["compile_s"] + out["sample_s"]
        if "second_partition_setup_s" in out:  # a machine's later partitions: kernels cached
            out["warm_total_s"] = out["second_partition_setup_s"] + out["sample_s"]
        out["ess_per_s"] = out["min_ess_bulk_xi"] / out["total_s"]
    if "gradient_evals" in out:
        out["s_per_grad"] = out["sample_s"] * PARALLEL / out["gradient_evals"]
    out.update(case=case, config=config, legislators=matrix.shape[0], roll_calls=matrix.shape[1],
               observed_votes=matrix.n_observed)
    return out


# ---------------------------------------------------------------- orchestration


def reused(case, config) -> dict:
    """A configuration's stored result from an earlier run, marked as such."""
    target = OUT / f"{case}.{config}.json"
    if not target.exists():
        raise SystemExit(f"--reuse {config}: no stored result {target}")
    result = json.loads(target.read_text())
    stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime(target.stat().st_mtime))
    print(f"# {case} / {config}: reusing the result stored {stamp} UTC", flush=True)
    return {**result, "reused": stamp}


def with_reference_r(case: str, results: list[dict]) -> None:
    """Pearson r of each configuration's posterior-mean ideal points with the case's
    reference score (DW-NOMINATE dim 1, or the simulated truth)."""
    _, _, reference = load_case(case)
    known = np.isfinite(reference)
    for r in results:
        if "xi_mean" in r:
            r["r_reference"] = float(np.corrcoef(np.asarray(r["xi_mean"])[known], reference[known])[0, 1])


def run_in_subprocess(case, config, tune, draws, now_tree: Path | None = None) -> dict:
    """One configuration in a process of its own, with empty kernel caches (the
    compile time is a cold start's). now's configurations run this script with the
    baseline tree's venv (`now_tree`, from baseline.tree), so they import now's package."""
    OUT.mkdir(exist_ok=True)
    target = OUT / f"{case}.{config}.json"
    in_now = config.partition("@")[0] in IN_NOW_VENV
    if in_now and now_tree is None:
        return {"case": case, "config": config, "error": "no baseline tree (its error is printed above)"}
    cmd = [str(baseline.python(now_tree)) if in_now else sys.executable, str(Path(__file__).resolve()),
           "--one", case, config, "--tune", str(tune), "--draws", str(draws), "--json", str(target)]
    print(f"# {case} / {config} (tune {tune}, draws {draws}) ...", flush=True)
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "IRT_PIPELINE_KERNEL_CACHE": cache}
        if config.endswith("_avx2"):
            env.update(NUMBA_CPU_NAME=AVX2_CPU, NUMBA_CPU_FEATURES=avx2_features())
        proc = subprocess.run(cmd, cwd=now_tree if in_now else REPO, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return {"case": case, "config": config, "error": tail}
    result = json.loads(target.read_text())
    if config == "now":
        result = judge_now(case, result)
        target.write_text(json.dumps(result))
    return result


def table(results: list[dict]) -> str:
    """Markdown table of one case's results, with ratios against now."""
    by = {r["config"]: r for r in results}
    now = by.get("now", {})
    floor = by.get("floor", {})
    head = ("| config | tune+draws | compile s | sample s | total s | x now (total) | warm total s | x now (warm) "
            "| CPU s | x now (CPU) "
            "| R-hat xi / party / tau "
            "| ESS xi / party / tau | div | gates passed | ESS(xi)/s | grads | steps/draw | s/grad | ns/vote "
            "| x floor | peak MB | r reference |")
    rows = []
    for r in results:
        if "floor" in r["config"] or "error" in r:
            continue
        warm, cpu = r.get("warm_total_s"), r.get("cpu_s")
        grad = r.get("s_per_grad")  # None for a Gibbs sampler (pscl)
        per_vote = grad / r["observed_votes"] * 1e9 if grad else None
        length = f"{r['tune']}+{r['draws']}" + (f" (thin {r['thin']})" if r.get("thin") else "")
        rhat = " / ".join(fmt(r.get(f"rhat_{g}", r.get("max_rhat_xi") if g == "xi" else None), ".3f") for g in GATE_GROUPS)
        ess = " / ".join(fmt(r.get(f"ess_{g}", r.get("min_ess_bulk_xi") if g == "xi" else None), ".0f") for g in GATE_GROUPS)
        gates = f"{r['gates_passed']}/{r['gates_total']}" if "gates_total" in r else "-"
        if r.get("gates_failed"):
            gates += " (fails " + ", ".join(r["gates_failed"]) + ")"
        rows.append(
            f"| {r['config']} | {length} | {r['compile_s']:.1f} | {r['sample_s']:.1f} "
            f"| {r['total_s']:.1f} | {fmt(ratio(now.get('total_s'), r['total_s']), '.2f')} | {fmt(warm, '.1f')} "
            f"| {fmt(ratio(now.get('warm_total_s'), warm), '.2f')} | {fmt(cpu, '.0f')} "
            f"| {fmt(ratio(now.get('cpu_s'), cpu), '.2f')} | {rhat} | {ess} | {fmt(r['divergences'], 'd')} | {gates} "
            f"| {r['ess_per_s']:.2f} | {fmt(r.get('gradient_evals'), ',')} | {fmt(r.get('steps_per_draw'), '.1f')} "
            f"| {f'{grad * 1e3:.3f} ms' if grad else '-'} | {fmt(per_vote, '.2f')} "
            f"| {fmt(ratio(grad, floor.get('s_per_grad')), '.2f')} | {r['peak_rss_mb']:.0f} "
            f"| {r.get('r_reference', float('nan')):.4f}{' (reflected)' if r.get('xi_mean_reflected') else ''} |"
        )
    for name in ("floor", "now_floor", "floor_avx2", "now_floor_avx2"):
        if by.get(name, {}).get("s_per_grad"):
            f = by[name]
            rows.append(f"| {FLOOR_LABELS[name]} | | | | | | | | | | | | | | | | | {f['s_per_grad'] * 1e3:.3f} ms "
                        f"| {f['s_per_grad'] / f['observed_votes'] * 1e9:.2f} "
                        f"| {f['s_per_grad'] / floor.get('s_per_grad', np.nan):.2f} | | | |")
    rows += [f"| {r['config']} | failed: {r['error'].splitlines()[-1][:80]} |" for r in results if "error" in r]
    return "\n".join(markdown_table(head, rows))


def roofline(results: list[dict]) -> str:
    """The floor against what the core can do for that many votes."""
    floor = next((r for r in results if r["config"] == "floor" and "peak_flops" in r), None)
    if floor is None:
        return ""
    votes, cells, peak = floor["observed_votes"], floor["cells"], floor["peak_flops"]
    best = cells * FLOPS_PER_VOTE / peak  # the loop visits every cell, observed or not
    parts = [
        f"Roofline: {1 / floor['s_per_grad']:,.0f} gradient evaluations per second per core "
        f"({2 / floor['s_per_grad']:,.0f} on both cores); {floor['s_per_grad'] / cells * 1e9:.2f} ns per matrix "
        f"cell, {floor['s_per_grad'] / votes * 1e9:.2f} ns per observed vote. At ~{FLOPS_PER_VOTE} floating-point "
        f"operations per cell and the core's measured best case of {peak / 1e9:.0f} GFLOP/s (single precision, "
        f"FMA loop) the loop could take {best * 1e3:.3f} ms: it runs at {best / floor['s_per_grad']:.0%} of that "
        f"peak. The same kernel in double precision: {floor['s_per_grad_double'] * 1e3:.3f} ms "
        f"({floor['s_per_grad_double'] / floor['s_per_grad']:.1f}x)."
    ]
    now = next((r for r in results if r["config"] == "now_floor" and "s_per_grad" in r), None)
    if now:
        parts.append(f"now's kernel: {now['s_per_grad'] * 1e3:.3f} ms, {now['s_per_grad'] / votes * 1e9:.2f} ns per "
                     f"observed vote ({now['s_per_grad'] / floor['s_per_grad']:.1f}x the shipped floor).")
    return " ".join(parts) + "\n"


def stopping_cost(results: list[dict]) -> str:
    """Adaptive (shipped) against the long fixed run: differences of posterior means
    and sds in units of their combined Monte Carlo standard error."""
    by = {r["config"]: r for r in results if "error" not in r}
    if "shipped" not in by or "fixed" not in by:
        return ""
    lines = []
    for variable, a in by["shipped"]["moments"].items():
        b = by["fixed"]["moments"].get(variable)
        if b is None:
            continue
        # values fixed by the coordinates (an anchored party's mean) have no Monte Carlo error
        varies = np.hypot(a["mcse_mean"], b["mcse_mean"]) > 0
        if not varies.any():
            continue
        z_mean = (np.subtract(a["mean"], b["mean"]) / np.hypot(a["mcse_mean"], b["mcse_mean"]))[varies]
        z_sd = (np.subtract(a["sd"], b["sd"]) / np.hypot(a["mcse_sd"], b["mcse_sd"]))[varies]
        lines.append(
            f"- {variable} ({len(z_mean)} values): mean differences |z| median {np.median(np.abs(z_mean)):.2f}, "
            f"max {np.max(np.abs(z_mean)):.2f}, {np.mean(np.abs(z_mean) > 2):.0%} beyond 2; sd differences |z| median "
            f"{np.median(np.abs(z_sd)):.2f}, max {np.max(np.abs(z_sd)):.2f}, {np.mean(np.abs(z_sd) > 2):.0%} beyond 2"
        )
    head = (f"Stopping rule's cost: shipped ({by['shipped']['draws']} draws per chain, adaptive) against fixed "
            f"({by['fixed']['draws']} per chain); differences in units of their combined Monte Carlo standard error "
            f"(|z| is about half-normal, median 0.67, 5% beyond 2, if the two estimate the same posterior):")
    return "\n".join([head, *lines]) + "\n"


def reuse_line(results: list[dict]) -> str:
    old = [f"{r['config']} ({r['reused']} UTC)" for r in results if "reused" in r]
    return f"Reused from an earlier run of this script on the same machine: {', '.join(old)}.\n" if old else ""


def notes(results: list[dict]) -> str:
    by = {r["config"]: r for r in results if "error" not in r}
    out = []
    shipped = by.get("shipped")
    if shipped:
        out.append(
            f"- shipped: compile {shipped['compile_s']:.1f} s from an empty kernel cache; a second partition's "
            f"setup in the same process {shipped['second_partition_setup_s']:.2f} s"
        )
        now = by.get("now")
        if now:
            ratios = [f"{now[k] / shipped[k]:.2f}x {what}" for k, what in
                      (("total_s", "shorter end to end"), ("warm_total_s", "with warm kernel caches"),
                       ("cpu_s", "fewer CPU seconds")) if now.get(k) and shipped.get(k)]
            r = np.corrcoef(shipped["xi_mean"], now["xi_mean"])[0, 1]
            out.append(f"- shipped vs now: {', '.join(ratios)}; shipped passes {shipped.get('gates_passed')}/"
                       f"{shipped.get('gates_total')} gates, now {now.get('gates_passed')}/{now.get('gates_total')} "
                       f"(now samples a fixed length; ESS per second is not the comparison); ideal points r = {r:.4f}")
        for other in ("graph", "stock", "pymc", "numpyro", "pscl"):
            if other in by:
                r = np.corrcoef(shipped["xi_mean"], by[other]["xi_mean"])[0, 1]
                speedup = shipped["ess_per_s"] / by[other]["ess_per_s"]
                out.append(
                    f"- shipped vs {other}: {speedup:.1f}x the min bulk ESS(xi) per second; "
                    f"posterior-mean ideal points r = {r:.4f}"
                )
        if "floor" in by:
            out.append(f"- shipped seconds per gradient: {shipped['s_per_grad'] / by['floor']['s_per_grad']:.2f}x the floor")
    pscl = by.get("pscl")
    if pscl:
        sweep = pscl["sample_s"] * pscl["cores"] / pscl["gibbs_sweeps"]
        out.append(
            f"- pscl: `ideal(rc)` with pscl's defaults, {CHAINS} chains on {pscl['cores']} cores (parallel::mclapply), "
            f"{pscl['tune']:,} burn-in + {pscl['draws']:,} iterations thinned by {pscl['thin']} ({pscl['kept_draws']} kept "
            f"draws per chain); {pscl['gibbs_sweeps']:,} Gibbs sweeps at {sweep * 1e3:.2f} ms each "
            f"({sweep / pscl['observed_votes'] * 1e9:.1f} ns per observed vote); it dropped "
            f"{pscl['roll_calls'] - pscl['roll_calls_used']} unanimous roll calls (dropList lop = 0); peak MB is "
            f"the largest R process's"
        )
    return "\n".join(out)


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for pkg in ("nutpie", "pymc", "pytensor", "numba", "arviz", "numpy", "jax", "numpyro"):
        try:
            parts.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            parts.append(f"{pkg} (not installed)")
    return f"Python {platform.python_version()}, {processor()}; " + ", ".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", default=",".join(CASES))
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--quick", action="store_true", help="every baseline at 200 tune + 200 draws")
    parser.add_argument("--stock-tune", type=int, default=1000, help="stock nutpie configuration")
    parser.add_argument("--stock-draws", type=int, default=1000)
    parser.add_argument("--baseline-tune", type=int, default=200, help="PyMC and NumPyro (hours at 1,000)")
    parser.add_argument("--baseline-draws", type=int, default=200)
    parser.add_argument("--write-results", action="store_true", help="rewrite the tables in bench/RESULTS.md")
    parser.add_argument("--reuse", default="", help="configs to take from bench/out/ (an earlier run) instead of rerunning")
    parser.add_argument("--one", nargs=2, metavar=("CASE", "CONFIG"), help=argparse.SUPPRESS)
    parser.add_argument("--tune", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--draws", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--fixed-draws", type=int, default=4000, help="kept draws per chain of `fixed`")
    parser.add_argument("--now-commit", default=baseline.NOW_COMMIT,
                        help="the commit `now` runs (default %(default)s; bench/baseline.py checks it out)")
    parser.add_argument("--label", default="", help="name of the RESULTS.md block (default: the case)")
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one:
        result = run_one(*args.one, args.tune, args.draws)
        Path(args.json).write_text(json.dumps(result))
        return 0

    settings = {
        "stock": (200, 200) if args.quick else (args.stock_tune, args.stock_draws),
        "pymc": (args.baseline_tune, args.baseline_draws),
        "numpyro": (args.baseline_tune, args.baseline_draws),
        "fixed": (0, args.fixed_draws),
    }
    header = f"Command: `{command_line('run.py', argv).strip()}`\n\nVersions: {versions()}\n"
    now_tree = None
    configs, reuse = args.configs.split(","), args.reuse.split(",")
    if any(c.partition("@")[0] in IN_NOW_VENV and c not in reuse for c in configs):
        try:  # outside every measurement: exporting the commit and building its venv
            now_tree = baseline.tree(args.now_commit)
            header += f"\nnow: commit {baseline.resolve(args.now_commit)[:7]}\n"
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            print(f"# baseline {args.now_commit}: {exc}", flush=True)
    for case in args.case.split(","):
        results = []
        for config in configs:
            tune, draws = settings.get(config, (0, 0))
            if config in reuse:
                results.append(reused(case, config))
            else:
                results.append(run_in_subprocess(case, config, tune, draws, now_tree))
        with_reference_r(case, results)
        first = next((r for r in results if "legislators" in r), {})
        name = case if not args.label or args.label == case else f"{case} ({args.label})"
        title = (f"### {name}: {first.get('legislators')} legislators x {first.get('roll_calls')} roll calls, "
                 f"{first.get('observed_votes', 0):,} observed votes, {CHAINS} chains")
        reference = "the simulated true ideal points" if case == "kansas_house" else "DW-NOMINATE dim 1"
        text = "\n".join([title, "", table(results), "", f"r reference: Pearson r with {reference} of the posterior "
                          "means, oriented once per run so Republicans' mean is above Democrats' ((reflected): "
                          "the run's means were negated as a whole).",
                          reuse_line(results), roofline(results), stopping_cost(results), notes(results), ""])
        print(text, flush=True)
        label = args.label or case
        (OUT / f"{label}.json").write_text(json.dumps(results, indent=1))
        if args.write_results:
            write_measured(label, f"{header}\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
