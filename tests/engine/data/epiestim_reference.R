# Reference numbers for fangkong.engine.rt, computed by R's EpiEstim on its own example data.
#
# Regenerate (Debian: apt-get install r-base-core r-cran-epiestim) from the repository root:
#
#     Rscript tests/engine/data/epiestim_reference.R
#
# It writes, next to this script:
#   incidence_<data>.csv        the daily series given to estimate_R (t, local, imported, I)
#   si_<data>.csv               the serial interval distributions given as a distribution (k, p)
#   epiestim_<run>.csv          estimate_R(...)$R: t_start, t_end, mean, std, q025, median, q975
#   epiestim_<run>_si.csv       estimate_R(...)$si_distr, the distribution EpiEstim used (k, p)
#   epiestim_runs.csv           one line per run: data, method, SI and prior settings, SI moments
#   discr_si.csv                discr_si(0:20, mu, sigma) for a few (mu, sigma)
#   versions.txt                R and EpiEstim versions
# Every number is written with 17 significant digits; NA is an empty field.

suppressPackageStartupMessages(library(EpiEstim))

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
out_dir <- if (length(file_arg) == 1) dirname(normalizePath(file_arg)) else getwd()

num <- function(x) {
  s <- sprintf("%.17g", x)
  s[is.na(x)] <- ""
  s
}

write_rows <- function(df, name) {
  df[] <- lapply(df, function(col) if (is.numeric(col)) num(col) else col)
  write.csv(df, file.path(out_dir, name), row.names = FALSE, quote = FALSE, na = "")
}

data(Flu2009)
data(Flu1918)
data(SARS2003)

flu2009 <- Flu2009$incidence$I
flu1918 <- Flu1918$incidence
sars2003 <- SARS2003$incidence

# Made-up imports for Flu2009 (not part of EpiEstim's data): a third of each day's cases,
# rounded down, are imported; the first day's case is imported (EpiEstim requires it).
flu2009_imported <- floor(flu2009 / 3)
flu2009_imported[1] <- flu2009[1]
flu2009_split <- data.frame(local = flu2009 - flu2009_imported, imported = flu2009_imported)

# Zeros at the start, gaps and a thin tail (made up), to record what EpiEstim gives there.
gappy <- c(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 7, 9, 12, 10,
           8, 5, 1, 0, 0, 1, 0, 0, 0)

incidences <- list(
  flu2009 = data.frame(local = c(0, flu2009[-1]), imported = c(flu2009[1], rep(0, length(flu2009) - 1))),
  flu1918 = data.frame(local = c(0, flu1918[-1]), imported = c(flu1918[1], rep(0, length(flu1918) - 1))),
  sars2003 = data.frame(local = c(0, sars2003[-1]), imported = c(sars2003[1], rep(0, length(sars2003) - 1))),
  flu2009_imported = flu2009_split,
  gappy = data.frame(local = c(0, gappy[-1]), imported = c(gappy[1], rep(0, length(gappy) - 1)))
)
# What estimate_R is given: EpiEstim's own objects as they ship (it moves the first day's cases to
# "imported" itself), the made-up series as written.
given <- list(flu2009 = Flu2009$incidence, flu1918 = flu1918, sars2003 = sars2003,
              flu2009_imported = flu2009_split, gappy = gappy)
for (name in names(incidences)) {
  d <- incidences[[name]]
  write_rows(data.frame(t = seq_len(nrow(d)), local = d$local, imported = d$imported,
                        I = d$local + d$imported), paste0("incidence_", name, ".csv"))
}
write_rows(data.frame(k = seq_along(Flu2009$si_distr) - 1, p = Flu2009$si_distr), "si_flu.csv")
write_rows(data.frame(k = seq_along(SARS2003$si_distr) - 1, p = SARS2003$si_distr), "si_sars2003.csv")

# (run, data, method, mean_si, std_si, si file, t_start, t_end, mean_prior, std_prior)
weekly <- function(n) list(t_start = seq(2, n - 6), t_end = seq(8, n))
runs <- list(
  list("flu2009_parametric", "flu2009", "parametric_si", 2.6, 1.5, NA, NULL, NULL, 5, 5),
  list("flu2009_nonparametric", "flu2009", "non_parametric_si", NA, NA, "si_flu.csv", NULL, NULL, 5, 5),
  list("flu1918_parametric", "flu1918", "parametric_si", 2.6, 1.5, NA, NULL, NULL, 5, 5),
  list("flu1918_nonparametric", "flu1918", "non_parametric_si", NA, NA, "si_flu.csv", NULL, NULL, 5, 5),
  list("sars2003_nonparametric", "sars2003", "non_parametric_si", NA, NA, "si_sars2003.csv",
       seq(14, 101), seq(20, 107), 5, 5),
  list("sars2003_parametric", "sars2003", "parametric_si", 8.4, 3.8, NA, NULL, NULL, 5, 5),
  list("flu2009_imported_parametric", "flu2009_imported", "parametric_si", 2.6, 1.5, NA, NULL, NULL, 5, 5),
  list("flu2009_imported_nonparametric", "flu2009_imported", "non_parametric_si", NA, NA, "si_flu.csv",
       NULL, NULL, 5, 5),
  list("flu2009_3day", "flu2009", "parametric_si", 2.6, 1.5, NA, seq(2, 30), seq(4, 32), 5, 5),
  list("flu2009_closure", "flu2009", "parametric_si", 2.6, 1.5, NA, c(2, 18, 25), c(17, 24, 32), 5, 5),
  list("flu1918_biweekly_prior", "flu1918", "non_parametric_si", NA, NA, "si_flu.csv",
       seq(2, 79), seq(15, 92), 1, 2),
  list("gappy_parametric", "gappy", "parametric_si", 2.6, 1.5, NA, NULL, NULL, 5, 5)
)

si_files <- list(si_flu.csv = Flu2009$si_distr, si_sars2003.csv = SARS2003$si_distr)
manifest <- list()
for (r in runs) {
  name <- r[[1]]; data_name <- r[[2]]; method <- r[[3]]
  incid <- given[[data_name]]
  cfg <- list(mean_prior = r[[9]], std_prior = r[[10]])
  if (!is.null(r[[7]])) {
    cfg$t_start <- r[[7]]
    cfg$t_end <- r[[8]]
  } else {
    cfg <- c(cfg, weekly(nrow(incidences[[data_name]])))
  }
  if (method == "parametric_si") {
    cfg$mean_si <- r[[4]]
    cfg$std_si <- r[[5]]
  } else {
    cfg$si_distr <- si_files[[r[[6]]]]
  }
  res <- suppressWarnings(estimate_R(incid, method = method, config = make_config(cfg)))
  R <- res$R
  write_rows(data.frame(t_start = R$t_start, t_end = R$t_end, mean = R[["Mean(R)"]], std = R[["Std(R)"]],
                        q025 = R[["Quantile.0.025(R)"]], median = R[["Median(R)"]],
                        q975 = R[["Quantile.0.975(R)"]]), paste0("epiestim_", name, ".csv"))
  write_rows(data.frame(k = seq_along(res$si_distr) - 1, p = as.numeric(res$si_distr)),
             paste0("epiestim_", name, "_si.csv"))
  manifest[[name]] <- data.frame(
    run = name, data = data_name, method = method, mean_si = num(r[[4]]), std_si = num(r[[5]]),
    si_file = ifelse(is.na(r[[6]]), "", r[[6]]),
    windows = ifelse(is.null(r[[7]]), "weekly", "given"),
    mean_prior = num(r[[9]]), std_prior = num(r[[10]]),
    si_moment_mean = num(res$SI.Moments$Mean), si_moment_std = num(res$SI.Moments$Std)
  )
}
write.csv(do.call(rbind, manifest), file.path(out_dir, "epiestim_runs.csv"), row.names = FALSE, quote = FALSE)

discr <- do.call(rbind, lapply(list(c(2.6, 1.5), c(8.4, 3.8), c(4.8, 2.3), c(1.5, 0.2)), function(p) {
  data.frame(mu = p[1], sigma = p[2], k = 0:20, p = discr_si(0:20, p[1], p[2]))
}))
write_rows(discr, "discr_si.csv")

writeLines(c(paste("R", paste(R.version$major, R.version$minor, sep = ".")),
             paste("EpiEstim", as.character(packageVersion("EpiEstim")))),
           file.path(out_dir, "versions.txt"))
