# make_boundaries.R -- reference group-sequential boundaries from rpact.
#
# What it computes: for each design below, rpact::getDesignGroupSequential (one-sided,
# alpha = 0.025) gives the efficacy critical values (rpact's scale: reject when the
# standardised statistic for benefit is >= the value), the futility bounds of the interim
# looks (beta-spending with rpact's default method: the drift that gives the design power
# 1 - beta, the last futility bound equal to the last critical value), the cumulative alpha
# and beta spent, and the drift ("shift" = theta^2 * I_max, from getDesignCharacteristics).
# Written to tests/fixtures/boundaries.json; trialsim's tests read the JSON (CI needs no R).
#
# Designs: typeOfDesign asOF, asP, asKD (gammaA 1, 2, 3), asHSD (gammaA -4, -2, 1);
# kMax 2 to 5; equal and unequal information rates; efficacy only, and with futility by
# beta-spending (bsOF, bsP, bsKD, bsHSD; beta = 0.2), binding and non-binding.
#
# Versions used for the committed fixture: R 4.2.2 Patched (2022-11-10 r83330), rpact 3.3.4
# (Debian bookworm: apt-get install r-base-core r-cran-rpact); written into the JSON too.
# rpact's own tolerance is 1e-8 in probability, so its bounds are accurate to about 1e-7 in z.
#
# Regenerate (from the repository root, a few seconds):
#   Rscript tests/reference/make_boundaries.R

suppressPackageStartupMessages(library(rpact))

unequal <- list(c(0.3, 1), c(0.25, 0.6, 1), c(0.2, 0.45, 0.7, 1), c(0.1, 0.3, 0.5, 0.8, 1))
efficacy <- list(
  list(type = "asOF", gamma = NA), list(type = "asP", gamma = NA),
  list(type = "asKD", gamma = 1), list(type = "asKD", gamma = 2), list(type = "asKD", gamma = 3),
  list(type = "asHSD", gamma = -4), list(type = "asHSD", gamma = -2), list(type = "asHSD", gamma = 1)
)
futility <- list(
  list(type = "bsOF", gamma = NA), list(type = "bsP", gamma = NA),
  list(type = "bsKD", gamma = 2), list(type = "bsHSD", gamma = -2), list(type = "bsHSD", gamma = -4)
)

num <- function(x) if (length(x) == 0) "[]" else paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
str <- function(x) paste0("\"", x, "\"")

design <- function(rates, eff, fut = NULL, binding = FALSE) {
  args <- list(kMax = length(rates), alpha = 0.025, sided = 1, informationRates = rates,
               typeOfDesign = eff$type, tolerance = 1e-10)
  if (!is.na(eff$gamma)) args$gammaA <- eff$gamma
  if (!is.null(fut)) {
    args$beta <- 0.2
    args$typeBetaSpending <- fut$type
    if (!is.na(fut$gamma)) args$gammaB <- fut$gamma
    args$bindingFutility <- binding
  }
  d <- do.call(getDesignGroupSequential, args)
  shift <- if (!is.null(fut)) getDesignCharacteristics(d)$shift else NA
  fields <- c(
    sprintf("\"information_rates\": %s", num(rates)),
    sprintf("\"efficacy\": %s", str(eff$type)),
    sprintf("\"gamma_a\": %s", if (is.na(eff$gamma)) "null" else sprintf("%.17g", eff$gamma)),
    sprintf("\"futility\": %s", if (is.null(fut)) "null" else str(fut$type)),
    sprintf("\"gamma_b\": %s", if (is.null(fut) || is.na(fut$gamma)) "null" else sprintf("%.17g", fut$gamma)),
    sprintf("\"beta\": %s", if (is.null(fut)) "null" else "0.2"),
    sprintf("\"binding\": %s", if (binding) "true" else "false"),
    sprintf("\"critical_values\": %s", num(d$criticalValues)),
    sprintf("\"futility_bounds\": %s", if (is.null(fut)) "[]" else num(d$futilityBounds)),
    sprintf("\"alpha_spent\": %s", num(d$alphaSpent)),
    sprintf("\"beta_spent\": %s", if (is.null(fut)) "[]" else num(d$betaSpent)),
    sprintf("\"shift\": %s", if (is.na(shift)) "null" else sprintf("%.17g", shift))
  )
  paste0("    {", paste(fields, collapse = ", "), "}")
}

out <- character()
for (k in 2:5) {
  for (rates in list(seq_len(k) / k, unequal[[k - 1]])) {
    for (eff in efficacy) out <- c(out, design(rates, eff))
  }
}
for (k in 2:5) {
  for (rates in list(seq_len(k) / k, unequal[[k - 1]])) {
    for (eff in efficacy[c(1, 2, 6)]) {
      for (fut in futility) {
        for (binding in c(FALSE, TRUE)) out <- c(out, design(rates, eff, fut, binding))
      }
    }
  }
}

json <- paste0(
  "{\n",
  "  \"generator\": \"Rscript tests/reference/make_boundaries.R\",\n",
  sprintf("  \"r_version\": \"%s\",\n", R.version.string),
  sprintf("  \"rpact_version\": \"%s\",\n", as.character(packageVersion("rpact"))),
  "  \"alpha\": 0.025,\n",
  "  \"designs\": [\n", paste(out, collapse = ",\n"), "\n  ]\n}\n"
)
dir.create("tests/fixtures", showWarnings = FALSE)
writeLines(json, "tests/fixtures/boundaries.json", sep = "")
cat(sprintf("wrote %d designs to tests/fixtures/boundaries.json\n", length(out)))
