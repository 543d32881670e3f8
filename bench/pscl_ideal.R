# pscl::ideal with its defaults, several chains: the baseline an analyst would run
# instead of the pipeline (called by bench/run.py's `pscl` configuration).
#
#   Rscript bench/pscl_ideal.R VOTES.csv DRAWS.csv TIMING.txt CHAINS SEED CORES
#
# VOTES.csv: legislators x roll calls, first column the legislator id, cells 1 Yea,
# 0 Nay, NA missing (rollcall()'s own default codes). Each chain is one `ideal(rc)` call
# with pscl's defaults after set.seed(SEED + chain); the chains run through
# parallel::mclapply on CORES forked processes. DRAWS.csv: one row per kept draw
# (chain, draw, then one column per legislator: x, dimension 1), the draws after burn-in
# that pscl's own summaries use (it also stores the one at iteration `burnin`).
# TIMING.txt: "name value" lines (wall seconds of the ideal() calls; the sampler's
# settings as ideal() saw them). CPU seconds are the caller's to count (children
# included): R's own proc.time() misses forked children not yet reaped.

suppressPackageStartupMessages(library(pscl))
library(parallel)

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 6) stop("usage: pscl_ideal.R VOTES.csv DRAWS.csv TIMING.txt CHAINS SEED CORES")
votes_path <- args[1]
draws_path <- args[2]
timing_path <- args[3]
chains <- as.integer(args[4])
seed <- as.integer(args[5])
cores <- as.integer(args[6])

votes <- as.matrix(read.csv(votes_path, row.names = 1, check.names = FALSE))
rc <- rollcall(votes, legis.names = rownames(votes))

one_chain <- function(chain) {
  set.seed(seed + chain)
  fit <- ideal(rc)  # what a user types: every setting is pscl's default
  iteration <- as.numeric(dimnames(fit$x)[[1]])
  kept <- iteration > fit$call$burnin
  list(x = fit$x[kept, , 1], m = fit$m, call = fit$call)
}

start <- proc.time()
fits <- mclapply(seq_len(chains), one_chain, mc.cores = cores, mc.preschedule = FALSE)
used <- proc.time() - start
failed <- vapply(fits, inherits, logical(1), what = "try-error")
if (any(failed)) stop(paste("chain(s)", paste(which(failed), collapse = ", "), "failed:", fits[failed][[1]]))

draws <- do.call(rbind, lapply(seq_len(chains), function(k) {
  x <- fits[[k]]$x
  data.frame(chain = k - 1L, draw = seq_len(nrow(x)) - 1L, x, check.names = FALSE)
}))
write.csv(draws, draws_path, row.names = FALSE)

call <- fits[[1]]$call
timing <- c(
  sampling_seconds = unname(used["elapsed"]),
  maxiter = call$maxiter, burnin = call$burnin, thin = call$thin,
  roll_calls_used = fits[[1]]$m, cores = cores
)
writeLines(paste(names(timing), format(timing, scientific = FALSE, trim = TRUE)), timing_path)
